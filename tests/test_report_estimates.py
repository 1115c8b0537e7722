"""The corpus-estimates section of report.html: present exactly when annotate estimate's files are."""

from __future__ import annotations

import html
import re

import pandas as pd
from test_report import STANCE_YAML, _toc, pulled_folder  # tests/ is on sys.path

from annotate.columns import ESTIMATE_COLUMNS, ESTIMATE_DIFFERENCES_FILE, ESTIMATES_FILE
from annotate.config import load_config
from annotate.files import write_csv
from annotate.inference.estimates import differences
from annotate.outputs.report import SECTIONS, page_sections
from annotate.outputs.summarize import summarize

HOSTILE = '<script>alert("x")</script>'


def _estimates() -> pd.DataFrame:
    rows = []
    for group, favor in (("Xinhua", 0.61), ("Reuters", 0.25), (HOSTILE, 0.12)):
        for label, share in (("Favor", favor), ("Against", 1 - favor)):
            for method, half, eff in (("PPI++", 0.05, 90.0), ("classical", 0.12, 30.0)):
                rows.append(
                    {
                        "field": "stance_china",
                        "label": label,
                        "by": "outlet",
                        "group": group,
                        "method": method,
                        "estimate": share,
                        "ci_low": share - half,
                        "ci_high": share + half,
                        "se": half / 1.96,
                        "level": 0.95,
                        "n_human": 30,
                        "n_model": 400 if method == "PPI++" else 0,
                        "n_articles": 20,
                        "effective_n": eff,
                        "lam": 0.9 if method == "PPI++" else 0.0,
                    }
                )
    return pd.DataFrame.from_records(rows, columns=ESTIMATE_COLUMNS)


def test_the_section_follows_the_files(tmp_path) -> None:
    config = load_config(STANCE_YAML)
    out, folder = pulled_folder(config, tmp_path)
    before = summarize(config, out).report.read_text(encoding="utf-8")
    assert 'id="estimates"' not in before and _toc(before) == list(SECTIONS)

    table = _estimates()
    write_csv(table, folder / ESTIMATES_FILE)
    write_csv(differences(table), folder / ESTIMATE_DIFFERENCES_FILE)
    page = summarize(config, out).report.read_text(encoding="utf-8")
    assert _toc(page) == list(page_sections(False, True))
    at = page.index('<section id="estimates">')
    part = page[at : page.index("</section>\n", at) + len("</section>\n")]
    # one forest row per group × label: a human-only line and a model-assisted line with its dot
    assert part.count('class="human"') == 6 and part.count("<circle") == 6
    assert "61% (56%–66%)" in part and "61% (49%–73%)" in part  # PPI++ and classical for Xinhua · Favor
    assert "<strong>3.0×</strong>" in part  # effective labels 90 for 30 human ones
    assert HOSTILE not in page and html.escape(HOSTILE) in part
    # Xinhua favours more than the hostile-named outlet (0.61 against 0.12): significant after Holm
    assert re.search(r"Xinhua</td>|Xinhua −", part) and "Differences between groups" in part
    link = '<a href="#estimates">Corpus estimates</a>'
    assert page.replace(part, "", 1).replace(link, "", 1) == before  # the rest of the page is unchanged

    (folder / ESTIMATES_FILE).write_text("not,the,columns\n1,2,3\n", encoding="utf-8")
    assert summarize(config, out).report.read_text(encoding="utf-8") == before
