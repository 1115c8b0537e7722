# Fresh machine: `make demo` runs the main job, `make test` runs the checks and tests.
# Each creates .venv and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck browser stop clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "annotate needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

install: $(STAMP)

## the main job: embedded Label Studio, sample article, 3 simulated annotators, exports + report
demo: $(STAMP)
	$(BIN)/annotate demo --simulate 3

## lint, type-check and the whole test suite (starts its own Label Studio)
test: lint typecheck browser
	$(BIN)/pytest

## Debian's Chromium for the browser tests (Playwright drives it; no browser download)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

lint: $(STAMP)
	$(BIN)/ruff check annotate tests
	$(BIN)/ruff format --check annotate tests

typecheck: $(STAMP)
	$(BIN)/mypy annotate

## stop the embedded server started by `make demo`
stop: $(STAMP)
	$(BIN)/annotate serve --stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
