"""``report.html``: one self-contained page that explains a campaign's results to an analyst.

The page makes no request to any other host: charts are hand-written inline SVG, the style is
inline, there is no script and no web font, and a strict Content-Security-Policy says so to the
browser. Every text that comes from data (articles, metadata, labels, e-mails, the config) is
escaped with ``html.escape``; cue highlights are cut from character offsets on the raw sentence,
each piece escaped on its own, never by inserting markup into text.

Sections, each a small function: overview, stance per target (per article, outlet,
country), agreement per field, annotators, most contested sentences, bias cues, the model of
``annotate learn`` (only when its card is given), and every article sentence by sentence
coloured by its stance toward a target chosen with CSS-only tabs. Gold sentences are reference
items, not part of the analysis, and are left out everywhere.

The package, imports going one way (down this list):

- ``__init__``: ``render_report``, which puts the page together, and the public names;
- ``articles``, ``contested``, ``cues``, ``model``, ``estimates``: the last five sections;
- ``sections``: the ``<head>``, header and footer, the wrapper of every section, and the
  sections overview, stance, agreement and annotators;
- ``scopes``: the agreement section's alpha per label and its articles with the lowest alpha;
- ``charts``: the inline SVG pieces, legends and swatches;
- ``data``: the data the page shows (``_prepare``) and the small helpers everything shares;
- ``report.css``: the stylesheet, inlined into the page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from annotate.config import ProjectConfig
from annotate.model.card import ModelCard
from annotate.outputs.report.articles import _articles_section, _tab_rules
from annotate.outputs.report.contested import CONTESTED_SHOWN, _contested_section, contested_ranking
from annotate.outputs.report.cues import CUE_EXAMPLES, _cues_section, highlight
from annotate.outputs.report.data import SUBSTANTIAL, TENTATIVE, _prepare, reliability_words
from annotate.outputs.report.estimates import _estimates_section
from annotate.outputs.report.model import _model_section
from annotate.outputs.report.sections import (
    MODEL_SECTION,
    NOT_GIVEN,
    SECTIONS,
    _agreement_section,
    _annotators_section,
    _footer,
    _head,
    _header,
    _overview,
    _stance_section,
    page_sections,
)
from annotate.quality.answers import CountedAnswers

__all__ = [
    "CONTESTED_SHOWN",
    "CUE_EXAMPLES",
    "MODEL_SECTION",
    "NOT_GIVEN",
    "SECTIONS",
    "SUBSTANTIAL",
    "TENTATIVE",
    "contested_ranking",
    "highlight",
    "page_sections",
    "reliability_words",
    "render_report",
]


def render_report(
    config: ProjectConfig,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    counted: CountedAnswers,
    card: ModelCard | None = None,
) -> str:
    """The report page as one self-contained HTML string.

    In: the project ``config``; the pull's ``manifest`` (``manifest.json``: pulled_at, project_name,
    project_id, label_studio_url/version, rows); ``tables`` as returned by
    ``annotate.quality.tables.summary_tables`` (``sentence_labels``, ``document_stance``,
    ``agreement``, ``annotators``); ``counted``, the same ``CountedAnswers`` the tables were
    computed from (the sentences' text and article metadata, each annotator's answers and the cue
    spans; excluded annotators' answers are not shown); ``card``, the model card of ``annotate learn``
    (``annotate.model.learn.previous_card``), shown as the model section before the articles and
    listed in the table of contents (see ``page_sections``) — None: no such section, and the page
    is exactly what it is without this argument. ``tables["estimates"]`` and
    ``tables["estimate_differences"]`` (``annotate estimate``'s files), when present, add the
    corpus-estimates section. Gold sentences are left out of every chart.
    """
    d = _prepare(config, manifest, tables, counted, card)
    return "".join(
        [
            _head(config.display_title(), d.stance.style() + _tab_rules(len(config.targets))),
            _header(d),
            _overview(d),
            _stance_section(d),
            _agreement_section(d),
            _annotators_section(d),
            _contested_section(d),
            _cues_section(d),
            _model_section(d),
            _estimates_section(d),
            _articles_section(d),
            _footer(d),
        ]
    )
