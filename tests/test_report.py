"""report.html in a real headless Chromium: every section, bars that match the tables, no network, no XSS.

Most tests build a small but realistic campaign in memory (four articles from four outlets, one in
Chinese, three annotators who disagree now and then, cue spans, a gold sentence and a skip), run
the real ``compute_tables`` on it and render the page; one test goes through a real Label Studio
(push a CSV, annotate as three users, ``annotate pull``, ``annotate summarize``). The model
section is checked on the HTML alone: a card from the real ``train_fields`` and a hand-made,
hostile one; without a card the page is the same as before that section existed.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.columns import ANNOTATION_COLUMNS, SENTENCE_COLUMNS
from annotate.config import ProjectConfig, load_config
from annotate.files import write_parquet
from annotate.keys import load_keys
from annotate.model.card import ModelCard, train_fields
from annotate.model.classifier import SentenceClassifier
from annotate.model.learn import MODEL_DIR
from annotate.model.store import CARD_FILE, save_model
from annotate.outputs.report import (
    MODEL_SECTION,
    SECTIONS,
    contested_ranking,
    highlight,
    page_sections,
    reliability_words,
    render_report,
)
from annotate.outputs.summarize import SUMMARIZE_STEPS, summarize
from annotate.quality.answers import CountedAnswers
from annotate.quality.tables import summary_tables
from annotate.studio.blinding import unseal_tasks
from annotate.studio.client import Connection, Studio
from annotate.studio.pull import _typed_annotations

ROOT = Path(__file__).resolve().parent.parent
STANCE_YAML = ROOT / "configs" / "stance.yaml"
runner = CliRunner()

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
ANNOTATORS = ["ana@example.org", "ben@example.org", "chen@example.org"]
CHINESE = "中方愿同美方加强人工智能领域的对话与合作。"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
QUOTES = '"quotes"'


@dataclass
class Article:
    doc_id: str
    title: str
    outlet: str
    country: str
    sentences: list[str]
    language: str = "en"
    url: str = ""


ARTICLES = [
    Article(
        "xinhua-ai",
        "China calls for AI cooperation",
        "Xinhua",
        "China",
        [
            "China is ready to deepen dialogue with the United States on artificial intelligence.",
            "Officials said cooperation on AI governance serves both peoples.",
            'Some in the US keep building "small yards, high fences" around chip technology.',
            "Such suppression and containment only harms global innovation.",
            "Experts say joint research would benefit the whole world.",
        ],
        url="https://example.com/xinhua-ai",
    ),
    Article(
        "reuters-chips",
        "US tightens chip export rules",
        "Reuters",
        "United Kingdom",
        [
            "The Commerce Department published new export rules on Tuesday.",
            "The rules restrict sales of advanced chips to China.",
            "Industry observers generally believe the rules will slow Chinese AI labs.",
            "Beijing criticised the move as weaponizing trade.",
            "Talks between the two governments are planned for next month.",
        ],
    ),
    Article(
        "peoples-daily",
        "中美人工智能合作前景广阔",
        "人民日报",
        "China",
        [
            CHINESE,
            "一些美国政客企图遏制中国科技发展。",
            "合作是唯一正确的选择。",
            "双方将于下月举行会谈。",
        ],
        language="zh",
    ),
    Article(
        "ledger-ai",
        "Washington weighs AI talks",
        "The Ledger",
        "",  # no country given: grouped as "not given"
        [
            "US officials were cautious about the planned AI dialogue.",
            "Henry Kissinger argued that cooperation on AI is essential.",
            "Critics called the talks a publicity stunt.",
            "The White House declined to comment.",
        ],
    ),
]
GOLD_TEXT = "This gold sentence checks annotators and must stay out of the charts."

# keyword rules for the "true" answers the simulated annotators start from
_CUES = {
    "Loaded language": ["suppression and containment", "harms", "weaponizing", "publicity stunt", "遏制"],
    "Vague attribution": [
        "Some in the US",
        "Industry observers generally believe",
        "Experts say",
        "一些美国政客",
    ],
    "Appeal to authority": ["Henry Kissinger"],
    "Slogan or metaphor": ['"small yards, high fences"', "唯一正确的选择"],
}


def _truth(text: str, field: str) -> str:
    low = text.lower()
    if field == "sentence_type":
        return (
            "Opinion" if re.search(r"should|only|harms|argued|criticised|called|唯一|企图", low) else "Fact"
        )
    if field == "stance_china":
        if re.search(r"restrict|slow chinese|遏制", low):
            return N
        if re.search(r"china|beijing|中方|中国", low):
            return F if re.search(r"ready|deepen|serves|中方", low) else N
        return X
    if field == "stance_us":
        if re.search(r"some in the us|suppression|weaponizing|政客", low):
            return A
        return N if re.search(r"\bus\b|united states|commerce|white house|washington|美方", low) else X
    if re.search(r"cooperation|dialogue|joint|talks|合作|会谈", low):
        return A if "stunt" in low else F
    return X


@dataclass
class Campaign:
    config: ProjectConfig
    annotations: pd.DataFrame
    sentences: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def build_campaign(
    articles: list[Article], config: ProjectConfig, seed: int = 3, gold: bool = True
) -> Campaign:
    """Three annotators answer every sentence: the keyword rules, with seeded slips (about 1 in 4)."""
    records: list[dict[str, Any]] = []
    for art in articles:
        for i, text in enumerate(art.sentences):
            records.append(
                {
                    "sentence_id": f"{art.doc_id}-{i}",
                    "doc_id": art.doc_id,
                    "sentence_index": i,
                    "paragraph": i // 2,
                    "text": text,
                    "title": art.title,
                    "outlet": art.outlet,
                    "country": art.country,
                    "published": "2026-01-05",
                    "url": art.url,
                    "language": art.language,
                }
            )
    if gold:
        records.append({"sentence_id": "gold-0", "doc_id": "gold", "sentence_index": 0, "text": GOLD_TEXT})
    table = pd.DataFrame.from_records(records).reindex(columns=SENTENCE_COLUMNS)
    table["task_id"] = range(1, len(table) + 1)
    table["paragraph"] = table["paragraph"].fillna(0).astype("int64")
    table["task_updated_at"] = pd.Timestamp("2026-01-06T10:00:00Z")
    if "superseded" in table:
        table["superseded"] = False
    strings = [
        c for c in table.columns if c not in ("sentence_index", "paragraph", "task_id", "task_updated_at")
    ]
    for col in strings:
        if col != "superseded":
            table[col] = table[col].astype("string").fillna("")

    fields = config.choice_fields()
    rows: list[tuple[Any, ...]] = []
    ann_id = 0
    base = pd.Timestamp("2026-01-06T09:00:00Z")

    def add(sid: str, doc: str, tid: int, who: str, items: list[tuple[Any, ...]], cancelled: bool, gt: bool):
        nonlocal ann_id
        ann_id += 1
        when = base + pd.Timedelta(seconds=ann_id)
        tail = (when, when, 12.0 + ann_id % 7, cancelled, gt)
        for item in items or [(None, None, None, None, None)]:
            rows.append((sid, doc, tid, ann_id, who, *item, *tail))

    for s in table.itertuples():
        if s.sentence_id == "gold-0":
            expected = [(f, _truth(s.text, f), None, None, None) for f in fields]
            add(s.sentence_id, s.doc_id, s.task_id, "admin@example.org", expected, False, True)
        for a, who in enumerate(ANNOTATORS):
            rng = random.Random(f"{seed}-{who}-{s.sentence_id}")
            items: list[tuple[Any, ...]] = []
            for f, labels in fields.items():
                label = _truth(s.text, f)
                if rng.random() < 0.25:
                    label = rng.choice(labels)
                items.append((f, label, None, None, None))
            for cue, words in _CUES.items():
                for word in words:
                    at = s.text.find(word)
                    if at >= 0 and rng.random() < 0.8:
                        # the third annotator tends to stop one character short
                        end = at + len(word) - (1 if a == 2 and len(word) > 6 else 0)
                        items.append(("cues", cue, at, end, s.text[at:end]))
            add(s.sentence_id, s.doc_id, s.task_id, who, items, False, False)
    # a fourth person skipped one sentence: counted, never a vote
    first = table.iloc[0]
    add(first.sentence_id, first.doc_id, first.task_id, "dana@example.org", [], True, False)
    annotations = _typed_annotations(pd.DataFrame.from_records(rows, columns=ANNOTATION_COLUMNS))
    manifest = {
        "pulled_at": "2026-01-06T10:05:00+00:00",
        "label_studio_url": "http://127.0.0.1:8080",
        "label_studio_version": "1.23.2",
        "project_id": 7,
        "project_name": config.name,
        "rows": {"sentences": len(table), "annotations": len(annotations)},
    }
    return Campaign(config, annotations, table, manifest)


def render(campaign: Campaign, path: Path) -> tuple[Path, dict[str, pd.DataFrame]]:
    counted = CountedAnswers.of(campaign.config, campaign.annotations, campaign.sentences)
    tables = summary_tables(campaign.config, counted)
    page = render_report(campaign.config, campaign.manifest, tables, counted)
    path.write_text(page, encoding="utf-8")
    return path, tables


@pytest.fixture
def config() -> ProjectConfig:
    return load_config(STANCE_YAML)


# -- the page in Chromium ------------------------------------------------------------------------------


def open_page(browser, path: Path, width: int = 1280):
    """The report opened from disk; every request is recorded and anything not the file is refused."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    routed: list[str] = []
    console: list[str] = []

    def route(r):
        routed.append(r.request.url)
        if r.request.url == path.as_uri():
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: requests.append(req.url))
    page.on("console", lambda msg: console.append(msg.text))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, routed, console


def expected_bars(
    labels: pd.DataFrame, sentences: pd.DataFrame, target: str, by: str
) -> Counter[tuple[str, str, int]]:
    """(group, stance label, sentences) for every non-empty bar segment, worked out from the tables."""
    part = labels[(labels["field"] == f"stance_{target}") & (labels["source"] != "gold")]
    if by == "doc_id":
        key = part["doc_id"].astype(str)
    else:
        value = sentences[by].astype("string").str.strip().replace("", pd.NA)
        meta = sentences.assign(value=value).groupby("doc_id")["value"].first()
        key = part["doc_id"].map(meta).astype("string").fillna("not given")
    label = part["label"].astype("string").fillna("No majority")
    counts = Counter(zip(key.astype(str), label.astype(str), strict=True))
    return Counter({(k, lab, n): 1 for (k, lab), n in counts.items()})


def bars_on_page(page, kind: str, target: str) -> Counter[tuple[str, str, int]]:
    found = page.eval_on_selector_all(
        f'.bars[data-chart="{kind}"][data-target="{target}"] g.seg',
        "els => els.map(e => [e.closest('.bar-row').dataset.key, e.dataset.label, Number(e.dataset.count)])",
    )
    return Counter(tuple(item) for item in found)


def check_page(
    page, path: Path, requests, routed, config, tables, sentences, by=("doc_id", "outlet", "country")
):
    """What every rendered report must satisfy."""
    for key, heading in SECTIONS.items():
        h2 = page.locator(f"section#{key} > h2")
        assert h2.count() == 1 and h2.inner_text() == heading and h2.is_visible(), key
        assert page.locator(f"section#{key} > h2 + p.explain").inner_text().strip(), f"{key}: no explanation"
    # the document bars are the non-zero rows of document_stance, one segment each
    stance = tables["document_stance"]
    for target in config.targets:
        rows = stance[(stance["target"] == target.id) & (stance["sentences"] > 0)]
        want = Counter((r.doc_id, r.label, int(r.sentences)) for r in rows.itertuples())
        got = bars_on_page(page, "article", target.id)
        assert got == want, target.id
        assert sum(got.values()) == len(rows)
        assert got == expected_bars(tables["sentence_labels"], sentences, target.id, "doc_id")
        for column in by[1:]:
            assert bars_on_page(page, column, target.id) == expected_bars(
                tables["sentence_labels"], sentences, target.id, column
            ), (target.id, column)
    # one agreement row per row of agreement.csv, each with its reading in words
    agreement = tables["agreement"]
    words = page.eval_on_selector_all(
        "table.agreement tbody tr .verdict", "els => els.map(e => e.textContent)"
    )
    assert words == [reliability_words(a) for a in agreement["krippendorff_alpha"]]
    # self-contained: the file is the only request, nothing was refused, no script on the page
    assert requests == [path.as_uri()], requests
    assert routed in ([], [path.as_uri()]), routed
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0


def test_report_in_chromium_matches_the_tables(tmp_path, browser, artifact_dir, config):
    campaign = build_campaign(ARTICLES, config)
    path, tables = render(campaign, tmp_path / "report.html")
    page, requests, routed, console = open_page(browser, path)
    check_page(page, path, requests, routed, config, tables, campaign.sentences)
    assert console == []

    # the overview: 4 articles, 18 sentences (gold left out), 3 annotators + the one who skipped
    overview = page.locator("section#overview").inner_text()
    assert "4\narticles" in overview and "18\nsentences to label (+ 1 gold)" in overview
    assert "6 January 2026, 10:05 UTC" in overview
    assert "done: 18 of 18 sentences have 3 answers" in overview
    # gold sentences are in no chart and no article
    assert GOLD_TEXT not in page.content()
    assert page.locator('.bar-row[data-key="gold"]').count() == 0
    # per outlet and per country, with the article that names no country as "not given"
    outlets = page.eval_on_selector_all(
        '.bars[data-chart="outlet"][data-target="china"] .bar-row', "e => e.length"
    )
    assert outlets == 4
    assert page.locator('.bars[data-chart="country"] .bar-row[data-key="not given"]').count() == 3
    # Chinese text renders, in the article view and as the title of its article
    chinese = page.locator(".panel-t0 .sent", has_text=CHINESE)
    assert chinese.count() == 1 and chinese.is_visible()
    assert chinese.get_attribute("lang") == "zh"
    assert chinese.bounding_box()["width"] > 100
    assert page.locator("article.doc h4", has_text="中美人工智能合作前景广阔").first.is_visible()

    # the most contested sentences: ranked as documented, each with its neighbours and three answers
    ranked = contested_ranking(tables["sentence_labels"][tables["sentence_labels"]["source"] != "gold"])
    cases = page.locator("section#contested .case")
    assert cases.count() == len(ranked) == 10
    assert cases.evaluate_all("els => els.map(e => e.dataset.sentence)") == ranked
    first = cases.first
    assert first.locator("tbody tr").count() == len(ANNOTATORS) + 1  # + the label used
    assert first.locator("p.ctx").count() in (1, 2)
    # bias cues: a bar per cue label and highlighted examples
    assert page.locator('.bars[data-chart="cues"] .bar-row').count() == len(config.cues)
    assert page.locator("section#cues .example", has_text="Henry Kissinger").locator("mark.cue").count() >= 1
    marks = page.locator("section#cues mark.cue").all_inner_texts()
    assert any(re.search("[\u4e00-\u9fff]", m) for m in marks), marks  # Chinese cues too
    # CSS-only tabs: the first target is shown; choosing another swaps the articles' colours
    assert page.locator(".panel-t0").is_visible() and not page.locator(".panel-t1").is_visible()
    page.locator('label[for="art-t1"]').click()
    assert page.locator(".panel-t1").is_visible() and not page.locator(".panel-t0").is_visible()
    page.locator('label[for="art-t0"]').click()

    shot = artifact_dir / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"report screenshot: {shot}")
    narrow = artifact_dir / "report-narrow.png"
    small, *_ = open_page(browser, path, width=420)
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    small.screenshot(path=str(narrow), full_page=True)
    print(f"narrow screenshot: {narrow}")


def test_xss_probe_shows_text_and_runs_nothing(tmp_path, browser, artifact_dir, config):
    probe = f"Officials said {SCRIPT} and {IMG} with {QUOTES} & more."
    article = Article(
        f"probe-{QUOTES}",
        f"Title {SCRIPT} {IMG} {QUOTES}",
        f"Outlet {IMG} {QUOTES}",
        f"Country {SCRIPT}",
        [probe, "China and the US agreed to hold talks on AI cooperation.", CHINESE],
        url=f"javascript:window.__xss=3//{QUOTES}",
    )
    cfg = config.model_copy(
        update={
            "targets": [
                *config.targets[:2],
                config.targets[2].model_copy(update={"label": f"Joint <b>{QUOTES}</b>"}),
            ]
        }
    )
    campaign = build_campaign([article, *ARTICLES[:1]], cfg)
    # an annotator marks the script tag as a cue: the highlight must cut the raw text, not inject markup
    at = probe.index(SCRIPT)
    ann = campaign.annotations
    row = ann[ann["sentence_id"] == f"{article.doc_id}-0"].iloc[0].copy()
    row[["field", "label", "start", "end", "span_text"]] = [
        "cues",
        "Loaded language",
        at + 3,
        at + len(SCRIPT) + 5,
        "x",
    ]
    campaign.annotations = _typed_annotations(pd.concat([ann, row.to_frame().T], ignore_index=True))
    path, tables = render(campaign, tmp_path / "report.html")

    raw = path.read_text(encoding="utf-8")
    assert "<script" not in raw.lower() and "<img" not in raw.lower() and "<b>" not in raw
    assert 'href="javascript' not in raw
    page, requests, routed, console = open_page(browser, path)
    check_page(page, path, requests, routed, cfg, tables, campaign.sentences)
    assert page.evaluate("window.__xss") is None
    assert not any("Content Security Policy" in line for line in console), console  # nothing even tried
    text = page.locator("body").inner_text()
    for literal in (SCRIPT, IMG, QUOTES, f"Title {SCRIPT} {IMG} {QUOTES}", f"Joint <b>{QUOTES}</b>"):
        assert literal in text, literal
    assert page.get_by_text(f"Outlet {IMG} {QUOTES}").first.is_visible()
    assert page.locator(".panel-t0 .sent", has_text=SCRIPT).is_visible()
    assert page.locator("b", has_text="quotes").count() == 0
    # the cue mark covers part of the tag, as text
    marks = page.locator("section#cues mark.cue").all_inner_texts()
    assert any("ript>window" in m for m in marks), marks
    page.screenshot(path=str(artifact_dir / "report-xss.png"), full_page=True)


# -- pieces without a browser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "words"),
    [
        (1.0, "substantial"),
        (0.8, "substantial"),
        (0.7999, "tentative"),
        (0.667, "tentative"),
        (0.6669, "unreliable"),
        (-0.2, "unreliable"),
        (float("nan"), "not computable"),
    ],
)
def test_reliability_words_follow_krippendorff(alpha, words):
    assert reliability_words(alpha) == words


def test_highlight_escapes_each_piece_and_counts_annotators():
    text = 'A <b>"bold"</b> claim & more'
    marked = highlight(text, [(2, 15, '<b>"bold"</b>'), (5, 11, '"bold"')], total=3, label="Loaded <x>")
    assert marked == (
        'A <mark class="cue k1" title="Loaded &lt;x&gt;: marked by 1 of 3 annotators">&lt;b&gt;</mark>'
        '<mark class="cue k2" title="Loaded &lt;x&gt;: marked by 2 of 3 annotators">&quot;bold&quot;</mark>'
        '<mark class="cue k1" title="Loaded &lt;x&gt;: marked by 1 of 3 annotators">&lt;/b&gt;</mark>'
        " claim &amp; more"
    )
    # Label Studio counts UTF-16 code units: after an emoji the offsets run one ahead
    emoji = "Wow 😀 such hype"
    assert highlight(emoji, [(12, 16, "hype")], total=1, label="x").endswith(">hype</mark>")
    # offsets outside the text are ignored
    assert highlight("short", [(3, 99, "")], total=1, label="x") == "short"


def test_contested_ranking_puts_ties_first():
    labels = pd.DataFrame(
        {
            "sentence_id": ["a", "a", "b", "c", "d"],
            "field": ["f1", "f2", "f1", "f1", "f1"],
            "agreement": [2 / 3, 1.0, 1 / 3, 1 / 3, 1.0],
            "margin": [1 / 3, 1.0, 0.0, 0.0, 1.0],
            "ds_probability": [0.9, 0.99, 0.95, 0.6, 0.99],
        }
    )
    assert contested_ranking(labels) == ["c", "b", "a"]  # d is unanimous


# -- the model section (HTML only) --------------------------------------------------------------------

MODEL_PHRASES = {
    F: "China's wise and generous leadership helped.",
    A: "China's aggressive and reckless policy hurt.",
    X: "Markets were calm.",
}


@pytest.fixture(scope="module")
def trained() -> tuple[dict[str, SentenceClassifier], ModelCard]:
    """A real card: ``train_fields`` on 10 articles of 6 sentences whose labels follow their
    phrases, with every fifth stance and every seventh type flipped (so neither is perfect);
    stance_us has one label only and stance_cooperation none: both skipped, with a reason."""
    config = load_config(STANCE_YAML)
    sentences, labels = [], []
    for a in range(10):
        for i in range(6):
            k = a * 6 + i
            kind = "Fact" if k % 2 == 0 else "Opinion"
            base = ["Officials reported {n} meetings.", "The talks should go further."][k % 2].format(n=k)
            china = [F, A, X][k % 3]
            sid, doc = f"m{a}-{i}", f"m{a}"
            sentences.append({"sentence_id": sid, "doc_id": doc, "text": f"{base} {MODEL_PHRASES[china]}"})
            if k % 5 == 0:
                china = [A, X, F][k % 3]
            if k % 7 == 0:
                kind = "Opinion" if kind == "Fact" else "Fact"
            for name, label in (("stance_china", china), ("sentence_type", kind), ("stance_us", X)):
                labels.append({"sentence_id": sid, "doc_id": doc, "field": name, "label": label})
    fields = list(config.choice_fields())
    return train_fields(pd.DataFrame(sentences), pd.DataFrame(labels), fields, seed=0)


def _pages(config: ProjectConfig, *cards: ModelCard | None) -> list[str]:
    """The campaign's page without the ``card`` argument, then with each of ``cards``."""
    campaign = build_campaign(ARTICLES, config)
    counted = CountedAnswers.of(config, campaign.annotations, campaign.sentences)
    tables = summary_tables(config, counted)
    args = (config, campaign.manifest, tables, counted)
    return [render_report(*args), *(render_report(*args, card=card) for card in cards)]


def _model_part(page: str) -> str:
    start = page.index(f'<section id="{MODEL_SECTION}">')
    return page[start : page.index("</section>\n", start) + len("</section>\n")]


def _toc(page: str) -> list[str]:
    nav = re.search(r'<nav class="toc"[^>]*>(.*?)</nav>', page)
    assert nav is not None
    return re.findall(r'<a href="#([^"]+)">', nav.group(1))


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _references(page: str) -> set[str]:
    """Everything on a page that could name another resource."""
    found = re.findall(r'(?:href|src|srcset|action|data)\s*=\s*"([^"]*)"', page, flags=re.I)
    found += re.findall(r"url\(([^)]*)\)|@import|<link|<script|<iframe|<object|<embed", page, flags=re.I)
    return set(found)


def test_a_page_without_a_card_is_the_page_as_it_was(config, trained):
    """No card: no section, no link, exactly ``SECTIONS``; a card adds its section and link, nothing else."""
    _, card = trained
    plain, with_none, with_card = _pages(config, None, card)
    assert with_none == plain
    assert f'id="{MODEL_SECTION}"' not in plain and f'href="#{MODEL_SECTION}"' not in plain
    assert page_sections() == SECTIONS and page_sections(False) == SECTIONS
    assert _toc(plain) == list(SECTIONS)
    assert re.findall(r'<section id="([^"]+)">', plain) == list(SECTIONS)

    shown = page_sections(True)
    assert list(shown) == [*list(SECTIONS)[:-1], MODEL_SECTION, "articles"]
    assert _toc(with_card) == list(shown)
    assert re.findall(r'<section id="([^"]+)">', with_card) == list(shown)
    link = f'<a href="#{MODEL_SECTION}">{html.escape(shown[MODEL_SECTION])}</a>'
    assert with_card.count(link) == 1
    # take the section and its link away and the page is byte for byte the page without a card
    assert with_card.replace(_model_part(with_card), "", 1).replace(link, "", 1) == plain
    # nothing new that could load or link anywhere: no script, no URL, the same references as before
    assert "<script" not in with_card.lower()
    assert _references(with_card) == _references(plain) | {f"#{MODEL_SECTION}"}
    assert not re.search(r"https?:|//|src=|url\(", _model_part(with_card))


def test_the_model_section_shows_the_cards_figures(config, trained):
    _, card = trained
    _, page = _pages(config, card)
    part = _model_part(page)
    assert f"<h2>{html.escape(page_sections(True)[MODEL_SECTION])}</h2>" in part
    assert f"<code>{card.model_version}</code>" in part
    created = datetime.fromisoformat(card.created)
    assert f"trained {created.day} {created:%B %Y, %H:%M} UTC" in part
    assert "grouped by article" in part and "no article is in both training and test" in part
    assert "calibration error" in part
    trained_fields = [name for name, entry in card.fields.items() if entry.trained]
    skipped = [name for name, entry in card.fields.items() if not entry.trained]
    assert trained_fields == ["stance_china", "sentence_type"]
    assert skipped == ["stance_us", "stance_cooperation"]
    for name in trained_fields:
        entry = card.fields[name]
        cv = entry.cv
        assert cv is not None and 0 < cv["accuracy"] < 1  # the flipped labels cost something
        row = re.search(rf'<tr data-field="{name}" data-trained="yes">.*?</tr>', part)
        assert row is not None, name
        cells = row.group(0)
        assert f'data-figure="accuracy"><strong>{_pct(cv["accuracy"])}</strong>' in cells
        assert f'data-figure="baseline">{_pct(cv["majority_baseline"])}<' in cells
        assert f'data-figure="macro_f1">{cv["macro_f1"]:.3f}<' in cells
        assert f'data-figure="ece">{cv["ece"]:.3f}' in cells
        assert f"{entry.n_labels} sentences<br>{entry.n_articles} articles" in cells
        assert f'width="{100 * cv["accuracy"]:.2f}%"' in cells  # the bar
        assert f'x1="{100 * cv["majority_baseline"]:.2f}%"' in cells  # the baseline's mark
        curve = " · ".join(f"{_pct(p['fraction'])}: {_pct(p['accuracy'])}" for p in cv["learning_curve"])
        assert [p["fraction"] for p in cv["learning_curve"]] == [0.25, 0.5, 0.75, 1.0]
        assert curve in cells and cells.count("<circle") == 4
        for label, n in entry.labels.items():
            assert f"{html.escape(label)} {n}" in cells
        for label, figures in cv["per_label"].items():
            line = re.search(rf'<tr data-field="{name}" data-label="{re.escape(label)}">.*?</tr>', part)
            assert line is not None, (name, label)
            numbers = re.findall(r'<td class="num">([^<]*)</td>', line.group(0))
            want = [_pct(figures["precision"]), _pct(figures["recall"]), f"{figures['f1']:.3f}"]
            assert numbers == [*want, str(figures["support"])]
    for name in skipped:
        reason = card.fields[name].reason
        assert reason
        row = re.search(rf'<tr data-field="{name}" data-trained="no">.*?</tr>', part)
        assert row is not None and html.escape(reason) in row.group(0), name
        assert "<svg" not in row.group(0)
    assert "trained before the data on this page" not in part  # trained after this pull


def test_the_model_section_shows_a_hand_made_card_as_it_is(config):
    """Figures that no recomputation would give, odd values, markup in every text: shown as given,
    escaped, "–" where a value is not a number; a card older than the pull says so."""
    hostile = "<script>alert(1)</script>"
    card = ModelCard.from_dict(
        {
            "model_version": 'annotate-tfidf-lr-<b>"x"</b>',
            "created": "2025-12-31T23:00:00+00:00",
            "seed": 7,
            "sklearn_version": "1.9.1",
            "parameters": {},
            "data_sha256": "0" * 64,
            "fields": {
                "stance_china": {
                    "trained": True,
                    "reason": None,
                    "n_labels": 40,
                    "n_articles": 9,
                    "labels": {"Favor": 25, "Against <i>": 15},
                    "calibrated": False,
                    "cv": {
                        "accuracy": 0.123,  # though every label's recall is higher
                        "macro_f1": 0.4567,
                        "ece": 0.0891,
                        "majority_baseline": 0.625,
                        "per_label": {
                            "Favor": {"precision": 0.5, "recall": 0.9, "f1": 0.6429, "support": 25},
                            "Against <i>": {"precision": "n/a", "recall": None, "support": "many"},
                        },
                        "learning_curve": [
                            {"fraction": 0.25, "train_articles": 1.75, "accuracy": 0.111, "macro_f1": 0.2},
                            "not a point",
                            {"fraction": 1.0, "train_articles": 7.0, "accuracy": 0.123, "macro_f1": 0.4567},
                        ],
                    },
                },
                hostile: {
                    "trained": False,
                    "reason": "label '<img src=x onerror=alert(2)>' has 2 examples",
                    "n_labels": 12.5,
                    "n_articles": None,
                    "labels": "nonsense",
                },
            },
        }
    )
    _, page = _pages(config, card)
    part = _model_part(page)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert "<i>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in part
    assert "annotate-tfidf-lr-&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in part
    assert "label &#x27;&lt;img src=x onerror=alert(2)&gt;&#x27; has 2 examples" in part
    assert 'data-figure="accuracy"><strong>12%</strong>' in part
    assert 'data-figure="baseline">62%<' in part and 'data-figure="macro_f1">0.457<' in part
    assert 'data-figure="ece">0.089<br><span class="small muted">not calibrated</span>' in part
    assert "25%: 11% · 100%: 12%" in part and part.count("<circle") == 2
    assert "Favor 25 · Against &lt;i&gt; 15" in part
    odd = re.search(r'<tr data-field="stance_china" data-label="Against &lt;i&gt;">.*?</tr>', part)
    assert odd is not None and re.findall(r'<td class="num">([^<]*)</td>', odd.group(0)) == ["–"] * 4
    assert "– sentences<br>– articles" in part
    assert "trained 31 December 2025, 23:00 UTC" in part and "1 of 2 questions have a model" in part
    assert "trained before the data on this page were pulled" in part


def pulled_folder(config: ProjectConfig, tmp_path: Path) -> tuple[Path, Path]:
    """``build_campaign``'s tables written as annotate pull writes them: (exports dir, project folder)."""
    campaign = build_campaign(ARTICLES, config)
    out = tmp_path / "exports"
    folder = out / config.name
    folder.mkdir(parents=True)
    write_parquet(campaign.sentences, folder / "sentences.parquet")
    write_parquet(campaign.annotations, folder / "annotations.parquet")
    return out, folder


def test_summarize_puts_the_model_card_in_the_report(tmp_path, config, trained):
    """A pulled folder: no model/, no section; ``save_model``'s card in model/: the section; a card
    that cannot be read: no section again, and no error."""
    models, card = trained
    out, folder = pulled_folder(config, tmp_path)

    before = summarize(config, out).report.read_text(encoding="utf-8")
    assert f'id="{MODEL_SECTION}"' not in before and _toc(before) == list(SECTIONS)

    saved = save_model(folder / MODEL_DIR, models, card)
    page = summarize(config, out).report.read_text(encoding="utf-8")
    assert _toc(page) == list(page_sections(True))
    part = _model_part(page)
    assert f"<code>{saved.model_version}</code>" in part
    cv = saved.fields["sentence_type"].cv
    assert cv is not None and f'data-figure="accuracy"><strong>{_pct(cv["accuracy"])}</strong>' in part
    assert html.escape(saved.fields["stance_us"].reason or "?") in part
    link = f'<a href="#{MODEL_SECTION}">{html.escape(page_sections(True)[MODEL_SECTION])}</a>'
    assert page.replace(part, "", 1).replace(link, "", 1) == before

    (folder / MODEL_DIR / CARD_FILE).write_text("{not json", encoding="utf-8")
    assert summarize(config, out).report.read_text(encoding="utf-8") == before


def test_summarize_reports_every_step_once_in_order(tmp_path, config):
    """``progress`` sees 1, 2, ... ``SUMMARIZE_STEPS``, each once, always out of ``SUMMARIZE_STEPS``."""
    out, folder = pulled_folder(config, tmp_path)
    steps: list[tuple[int, int]] = []
    summarize(config, out, progress=lambda done, total: steps.append((done, total)))
    assert [done for done, _ in steps] == list(range(1, SUMMARIZE_STEPS + 1))
    assert {total for _, total in steps} == {SUMMARIZE_STEPS}


# -- through a real Label Studio ---------------------------------------------------------------------

SERVER_CSV = (
    "id,title,outlet,country,text\n"
    'alpha,Beijing Pledges Openness,Xinhua,China,"China said it will share its AI research with partners. '
    'Officials praised the new dialogue with Washington. Critics called the plan a publicity stunt."\n'
    'beta,Chip Rules Tighten,Reuters,United Kingdom,"The Commerce Department published new export rules. '
    'Some in the US argue the rules protect national security. Analysts disagree about the rules."\n'
)
# answers of annotators 1-3 for stance_china per sentence, in document order
SERVER_CHINA = [(F, F, F), (F, F, A), (A, A, N), (N, N, X), (X, X, X), (F, A, N)]


def _server_result(china: str, text: str, cue: bool) -> list[dict[str, Any]]:
    res: list[dict[str, Any]] = [
        {
            "from_name": "stance_china",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [china]},
        },
        {"from_name": "stance_us", "to_name": "sentence", "type": "choices", "value": {"choices": [X]}},
        {
            "from_name": "stance_cooperation",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [X]},
        },
        {
            "from_name": "sentence_type",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": ["Fact"]},
        },
    ]
    word = "publicity stunt"
    if cue and word in text:
        at = text.index(word)
        res.append(
            {
                "from_name": "cues",
                "to_name": "sentence",
                "type": "labels",
                "value": {"start": at, "end": at + len(word), "text": word, "labels": ["Loaded language"]},
            }
        )
    return res


def test_summarize_writes_a_report_from_a_real_server(
    tmp_path, make_project, server_env, studio, annotator_keys, admin_login, browser, artifact_dir
):
    config, cfg_path = make_project()
    csv = tmp_path / "articles.csv"
    csv.write_text(SERVER_CSV, encoding="utf-8")
    result = runner.invoke(app, ["push", str(csv), "--config", str(cfg_path)])
    assert result.exit_code == 0, result.output
    project = studio.find_project(config.name)
    tasks = [t for page, _ in studio.iter_task_pages(int(project["id"]), fields="task_only") for t in page]
    unseal_tasks(tasks, load_keys(config.name))  # the articles have outlets: their ids are sealed
    tasks.sort(key=lambda t: (t["data"]["doc_id"], t["data"]["sentence_index"]))
    for a, (_, key) in enumerate(annotator_keys(3)):
        with Studio(Connection(admin_login.url, key, "test")) as as_user:
            for s, task in enumerate(tasks):
                text = task["data"]["text"]
                as_user.create_annotation(task["id"], _server_result(SERVER_CHINA[s][a], text, cue=a < 2))
    out = tmp_path / "exports"
    for command in ("pull", "summarize"):
        result = runner.invoke(app, [command, "--config", str(cfg_path), "--out", str(out)])
        assert result.exit_code == 0, result.output
    folder = out / config.name
    path = folder / "report.html"
    tables = {
        name: pd.read_csv(folder / f"{name}.csv", encoding="utf-8-sig")
        for name in ("document_stance", "sentence_labels", "agreement")
    }
    sentences = pd.read_parquet(folder / "sentences.parquet")
    page, requests, routed, console = open_page(browser, path)
    check_page(page, path, requests, routed, config, tables, sentences)
    assert console == []
    # alpha: F F A -> two Favor, one Against; beta: Neutral, Not addressed and the tie's Dawid–Skene label
    alpha = bars_on_page(page, "article", "china")
    assert {(k, lab, n) for k, lab, n in alpha if k == "alpha"} == {("alpha", F, 2), ("alpha", A, 1)}
    assert {k for k, _, _ in bars_on_page(page, "outlet", "china")} == {"Xinhua", "Reuters"}
    assert {k for k, _, _ in bars_on_page(page, "country", "china")} == {"China", "United Kingdom"}
    assert page.locator("section#overview").inner_text().count("annotator") >= 1
    assert page.locator("section#cues mark.cue", has_text="publicity stunt").count() == 1
    shot = artifact_dir / "report-server.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"report screenshot (real server): {shot}")
