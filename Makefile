# Fresh machine: `make demo` runs the main job, `make test` runs the checks and tests.
# Each creates .venv and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test unit lint typecheck browser bench bench-active bench-embed bench-predict stop clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "annotate needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev,embed]'
	touch $(STAMP)

install: $(STAMP)

## the main job: embedded Label Studio, sample article, 3 simulated annotators, exports + report
demo: $(STAMP)
	$(BIN)/annotate demo --simulate 3

## lint, type-check, the import contracts and the whole test suite (starts its own Label Studio)
test: lint typecheck browser
	$(BIN)/pytest

## the tests that need no Label Studio and no browser, on both cores (under a minute)
unit: lint typecheck
	$(BIN)/pytest -m "not server" -n 2

## Debian's Chromium for the browser tests (Playwright drives it; no browser download) and
## PostgreSQL's server binaries for the PostgreSQL test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_NEEDS := $(shell command -v chromium >/dev/null 2>&1 || echo chromium) \
	$(shell ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || echo postgresql)
browser:
	@if [ -n "$(strip $(APT_NEEDS))" ]; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(APT_NEEDS); fi

lint: $(STAMP)
	$(BIN)/ruff check annotate tests bench
	$(BIN)/ruff format --check annotate tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy annotate

## benchmark against Label Studio's own import/export on the same server (not part of `make test`)
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.active
	$(BIN)/python -m bench.embed

## replay labelling on BABE SG1 (../shared/data): uncertainty order against random order
bench-active: $(STAMP)
	$(BIN)/python -m bench.active

## model: tfidf+embedding against the default tfidf on BABE SG1, same folds, paired intervals
bench-embed: $(STAMP)
	$(BIN)/python -m bench.embed

## annotate predict: sentences/s per core and peak memory at 100,000 and 1,000,000 sentences
bench-predict: $(STAMP)
	$(BIN)/python -m bench.predict

## stop the embedded server started by `make demo`
stop: $(STAMP)
	$(BIN)/annotate serve --stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
