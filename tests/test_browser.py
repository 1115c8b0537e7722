"""An annotator in a real headless Chromium: log in, read the guidelines, label with the keyboard only.

The annotator is a real Label Studio user created through the API; everything after the login
form is done with ``page.keyboard`` (every key press counted, modifiers included), and the
labels are checked where analysts see them: in ``annotate pull``'s exports.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from annotate.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Test-Password-123"  # tests/conftest.py's annotator_keys

FIRST = "The two governments met in Geneva on Monday."
SECOND = "Industry observers generally believe the talks will resume."
SCRIPT = "<script>window.__xss=1</script>"
THIRD = f"The delegates also discussed {SCRIPT} safety testing."
BLINDED = {
    "outlet": "Xinhua Test Wire",
    "country": "Freedonia",
    "author": "Jane Roe-Blinded",
}
ARTICLE = {
    "id": "geneva-talks",
    "title": "Geneva Talks on AI",
    **BLINDED,
    "published": "2025-03-01",
    "url": "https://example.org/geneva",
    "text": f"{FIRST} {SECOND} {THIRD}",
}
F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
# What the annotator answers, as (china, us, cooperation, sentence type), and the sample's keys.
ANSWERS = {FIRST: (N, N, N, "Fact"), SECOND: (X, X, F, "Opinion")}
KEYS = {
    "stance_china": dict(zip((F, A, N, X), "1234", strict=True)),
    "stance_us": dict(zip((F, A, N, X), "5678", strict=True)),
    "stance_cooperation": dict(zip((F, A, N, X), "90qt", strict=True)),
    "sentence_type": {"Fact": "a", "Opinion": "s"},
}
#: Key presses to label one sentence: one per question (3 targets + sentence type), Ctrl, Enter.
KEY_PRESSES_PER_SENTENCE = 6


class CountingKeyboard:
    """``page.keyboard.press`` that counts every key pressed, a modifier of a chord included."""

    def __init__(self, page) -> None:
        self.page = page
        self.presses = 0

    def press(self, combo: str) -> None:
        self.page.keyboard.press(combo)
        self.presses += len(combo.split("+"))
        time.sleep(0.15)  # let the editor react, as a person would


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _checked(page) -> list[str]:
    """The values of the checked choices, in page order."""
    return page.eval_on_selector_all(
        "label.ant-radio-wrapper-checked input", "nodes => nodes.map(n => n.getAttribute('name'))"
    )


def _label_with_keyboard(page, keyboard: CountingKeyboard, text: str) -> None:
    china, us, cooperation, kind = ANSWERS[text]
    for field, label in (
        ("stance_china", china),
        ("stance_us", us),
        ("stance_cooperation", cooperation),
        ("sentence_type", kind),
    ):
        keyboard.press(KEYS[field][label])
    page.wait_for_function(
        "n => document.querySelectorAll('label.ant-radio-wrapper-checked').length === n", arg=4
    )
    assert _checked(page) == [china, us, cooperation, kind]


def test_annotator_labels_with_the_keyboard_and_pull_shows_it(
    tmp_path, make_project, server_env, studio, annotator_keys, browser, artifact_dir
):
    config, cfg_path = make_project(suggestions=str(ROOT / "configs" / "cues.yaml"), overlap=1)
    article = tmp_path / "geneva.jsonl"
    article.write_text(json.dumps(ARTICLE) + "\n", encoding="utf-8")
    _invoke("push", str(article), "--config", str(cfg_path))
    project = studio.find_project(config.name)
    assert project is not None and project["show_instruction"]
    pid = int(project["id"])
    email = annotator_keys(1)[0][0]

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{studio.url}/user/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/(projects|user/account|$).*"))

        page.goto(f"{studio.url}/projects/{pid}/data?labeling=1")
        # the guidelines open before the first task
        modal = page.get_by_text("Labeling Instructions")
        modal.wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "Annotation guidelines: China–US AI coverage" in body
        assert "Neutral or Not addressed?" in body and "Keys in this project" in body

        keyboard = CountingKeyboard(page)
        keyboard.press("Escape")  # close the guidelines (once per session)
        modal.wait_for(state="hidden")
        opening = keyboard.presses

        # sentence 1: no suggestion
        page.get_by_text("Sentence 1 of 3").wait_for()
        _label_with_keyboard(page, keyboard, FIRST)
        keyboard.press("Control+Enter")
        first = keyboard.presses - opening

        # sentence 2, in document order: the suggested cue span is already marked
        page.get_by_text("Sentence 2 of 3").wait_for(timeout=30_000)
        suggested = page.locator(".htx-highlight", has_text="Industry observers generally believe")
        suggested.first.wait_for()
        _label_with_keyboard(page, keyboard, SECOND)
        # the screenshot is for the README: leave out the "Annotation saved" toast of sentence 1
        page.add_style_tag(content="[class*='toast-viewport'] { display: none !important; }")
        shot = artifact_dir / "labeling.png"
        page.screenshot(path=str(shot))
        print(f"\nscreenshot of the labeling interface: {shot}")
        keyboard.press("Control+Enter")
        second = keyboard.presses - opening - first
        assert first == second == KEY_PRESSES_PER_SENTENCE
        print(f"key presses per sentence (3 stances + type + Ctrl+Enter): {first}")

        # sentence 3: markup in the text is shown as text and never runs
        page.get_by_text("Sentence 3 of 3").wait_for(timeout=30_000)
        sentence = page.get_by_text(THIRD, exact=True)
        sentence.first.wait_for()
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert (
            page.evaluate("s => Array.from(document.scripts).some(e => e.textContent.includes(s))", "__xss")
            is False
        )

        # blinded metadata appears nowhere: labeling view, Data Manager table, task source
        for value in BLINDED.values():
            assert value not in page.inner_text("body")
        page.goto(f"{studio.url}/projects/{pid}/data")
        page.get_by_text(FIRST).first.wait_for(timeout=30_000)
        table = page.inner_text("body")
        assert "Geneva Talks on AI" in table  # the table is there ...
        assert "geneva-talks" not in table  # (a blinded document's id is a pseudonym: ids can name outlets)
        for value in BLINDED.values():
            assert value not in table  # ... without the blinded fields
        page.locator("[class*=show-source] button").first.click()
        page.get_by_text("Source for task").wait_for()
        source = page.inner_text("body")
        assert "sentence_id" in source
        for value in BLINDED.values():
            assert value not in source
    finally:
        context.close()

    out = tmp_path / "exports"
    _invoke("pull", "--config", str(cfg_path), "--out", str(out), "--show-names")
    ann = pd.read_parquet(out / config.name / "annotations.parquet")
    sentences = pd.read_parquet(out / config.name / "sentences.parquet")
    mine = ann[ann["annotator"] == email].merge(sentences[["task_id", "text"]], on="task_id")
    assert set(mine["text"]) == {FIRST, SECOND}
    assert not mine["cancelled"].any()
    for text, (china, us, cooperation, kind) in ANSWERS.items():
        rows = mine[(mine["text"] == text) & (mine["field"] != "cues")]
        choices = dict(zip(rows["field"], rows["label"], strict=True))
        assert choices == {
            "stance_china": china,
            "stance_us": us,
            "stance_cooperation": cooperation,
            "sentence_type": kind,
        }
    cues = mine[mine["field"] == "cues"]
    assert cues[["text", "label", "start", "end", "span_text"]].values.tolist() == [
        [SECOND, "Vague attribution", 0, 36, "Industry observers generally believe"]
    ]
    # the metadata hidden from annotators is still in the exports
    row = sentences[sentences["text"] == FIRST].iloc[0]
    assert (row["outlet"], row["country"], row["author"]) == (
        BLINDED["outlet"],
        BLINDED["country"],
        BLINDED["author"],
    )


def test_readme_states_the_measured_keystrokes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{KEY_PRESSES_PER_SENTENCE} key presses" in readme
    assert "docs/labeling.png" in readme and (ROOT / "docs" / "labeling.png").exists()
