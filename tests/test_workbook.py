"""summary.xlsx: a README sheet and one sheet per table, holding the CSVs' numbers; Chinese text intact.

The offline tests build Label Studio task JSON by hand and turn it into tables with pull's own
``tidy_*`` functions, so they take the same path as a pull without a server; the last test
goes through a real Label Studio.
"""

from __future__ import annotations

import math
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from annotate.columns import SHEETS, TABLE_FILES, sheet_columns
from annotate.config import ProjectConfig, parse_config
from annotate.files import read_table, write_csv, write_parquet
from annotate.ingest.articles import Article
from annotate.ingest.cues import suggestion_rules
from annotate.ingest.segment import split_article
from annotate.outputs.dictionary import write_dictionary
from annotate.outputs.summarize import SUMMARIZE_STEPS
from annotate.outputs.workbook import EXCEL_MAX_TEXT, write_workbook
from annotate.quality.tables import compute_tables
from annotate.studio.pull import tidy_annotations, tidy_sentences

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
USERS = {1: "ann@example.org", 2: "ben@example.org", 3: "cat@example.org", 9: "admin@example.org"}
ZH_TITLE = "中美人工智能对话"
ZH_ARTICLE = (
    "中美两国今天在日内瓦举行人工智能对话。"
    "外交部发言人表示：“中方愿与各方加强合作。”"
    "有评论认为，这是“小院高墙”政策的转折点！"
    "美国商务部会继续收紧芯片出口吗？"
    "分析人士对此看法不一。"
)
ZH_SENTENCES = [
    "中美两国今天在日内瓦举行人工智能对话。",
    "外交部发言人表示：“中方愿与各方加强合作。”",
    "有评论认为，这是“小院高墙”政策的转折点！",
    "美国商务部会继续收紧芯片出口吗？",
    "分析人士对此看法不一。",
]
FORMULA = '=HYPERLINK("http://example.org") is how a spreadsheet formula starts.'
CONTROL = "A vertical\x0btab hides in this sentence."
MANIFEST = {
    "pulled_at": "2026-03-01T12:00:00+00:00",
    "label_studio_url": "http://127.0.0.1:8080",
    "label_studio_version": "1.23.2",
    "annotate_version": "0.1.0",
    "project_id": 7,
    "project_name": "wb-test",
    "project_title": ZH_TITLE,
    "config_sha256": "0" * 64,
    "pull": "full",
    "tasks_fetched": 8,
    "rows": {"sentences": 8, "annotations": 60, "distinct_annotations": 20, "skipped_annotations": 1},
}


def config() -> ProjectConfig:
    return parse_config(
        {
            "name": "wb-test",
            "title": ZH_TITLE,
            "targets": [
                {"id": "china", "label": "中国（政府与政策）"},
                {"id": "us", "label": "United States"},
            ],
            "stance_labels": [F, A, N, X],
            "sentence_types": ["Fact", "Opinion"],
            "cues": ["Loaded language", "Slogan or metaphor"],
            "overlap": 3,
        }
    )


_ids = count(1)


def ann(user: int, china: str, us: str = X, kind: str = "Fact", **extra: Any) -> dict[str, Any]:
    """One Label Studio annotation (JSON as the API gives it)."""
    result: list[dict[str, Any]] = [
        {
            "from_name": "stance_china",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [china]},
        },
        {"from_name": "stance_us", "to_name": "sentence", "type": "choices", "value": {"choices": [us]}},
        {
            "from_name": "sentence_type",
            "to_name": "sentence",
            "type": "choices",
            "value": {"choices": [kind]},
        },
    ]
    for start, end, label, text in extra.get("cues", []):
        result.append(
            {
                "from_name": "cues",
                "to_name": "sentence",
                "type": "labels",
                "value": {"start": start, "end": end, "text": text, "labels": [label]},
            }
        )
    if extra.get("comment"):
        value = {"text": [extra["comment"]]}
        result.append({"from_name": "comment", "to_name": "sentence", "type": "textarea", "value": value})
    return {
        "id": next(_ids),
        "completed_by": user,
        "result": [] if extra.get("skip") else result,
        "was_cancelled": bool(extra.get("skip")),
        "ground_truth": bool(extra.get("gold")),
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
        "lead_time": extra.get("lead_time", 12.5),
    }


def task(
    tid: int, doc: str, index: int, text: str, annotations: list[dict[str, Any]], **data: Any
) -> dict[str, Any]:
    return {
        "id": tid,
        "updated_at": "2026-03-01T10:00:00Z",
        "data": {
            "sentence_id": f"{doc}-{index}",
            "doc_id": doc,
            "sentence_index": index,
            "paragraph": 0,
            "text": text,
            "title": data.get("title", ""),
            "language": data.get("language", "en"),
        },
        "annotations": annotations,
    }


def lab_tasks() -> list[dict[str, Any]]:
    """A Chinese article and an English one, three annotators, cue spans, a comment, a skip, a gold task."""
    zh = ZH_SENTENCES
    slogan = zh[2].index("小院高墙")
    span = (slogan, slogan + 4, "Slogan or metaphor", "小院高墙")
    zh_answers = [
        (ann(1, F), ann(2, F), ann(3, F)),
        (ann(1, F, kind="Opinion"), ann(2, F), ann(3, A, kind="Opinion", comment="谁说的？来源不明")),
        (ann(1, A, cues=[span]), ann(2, A, cues=[span]), ann(3, N, cues=[(slogan, slogan + 2, *span[2:])])),
        (ann(1, N, us=A), ann(2, N, us=A), ann(3, X, us=A)),
        (ann(1, F, lead_time=3.0), ann(2, A), ann(3, N)),
    ]
    tasks = [
        task(i + 1, "zh", i, zh[i], list(answers), title=ZH_TITLE, language="zh")
        for i, answers in enumerate(zh_answers)
    ]
    tasks.append(task(6, "en", 0, FORMULA, [ann(1, X), ann(2, X), ann(3, X, skip=True)]))
    tasks.append(task(7, "en", 1, CONTROL, [ann(1, N), ann(2, N)]))
    gold = [ann(9, A, kind="Fact", gold=True), ann(1, A), ann(2, A), ann(3, F)]
    tasks.append(task(8, "gold", 0, "China imposed new sanctions on the firms.", gold))
    return tasks


def lab_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks = lab_tasks()
    return tidy_annotations(tasks, USERS), tidy_sentences(tasks)


def _rows(path: Path, sheet: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    book = load_workbook(path)
    rows = list(book[sheet].iter_rows(values_only=True))
    return [str(c) for c in rows[0]], rows[1:]


def test_workbook_holds_the_same_numbers_as_the_csvs(tmp_path: Path) -> None:
    annotations, sentences = lab_tables()
    tables, _ = compute_tables(config(), annotations, sentences, rules=suggestion_rules(config()))
    for key, name in TABLE_FILES.items():
        write_csv(tables[key], tmp_path / name)
    path = write_workbook(tables, sentences, tmp_path / "summary.xlsx", MANIFEST)

    book = load_workbook(path)
    assert book.sheetnames == ["README", *SHEETS]
    for key, name in TABLE_FILES.items():
        csv = pd.read_csv(tmp_path / name, encoding="utf-8-sig")
        sheet = book[key]
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        rows = list(sheet.iter_rows(values_only=True))
        header = list(rows[0])
        assert header[: len(csv.columns)] == list(csv.columns), key
        assert len(rows) - 1 == len(csv) > 0, key
        for col_index, column in enumerate(csv.columns):
            numeric = pd.api.types.is_numeric_dtype(tables[key][column].dtype)
            for row_index, expected in enumerate(csv[column].tolist()):
                got = rows[row_index + 1][col_index]
                where = f"{key}.{column}[{row_index}]"
                if isinstance(expected, float) and math.isnan(expected):
                    assert got is None, where
                elif isinstance(expected, bool):
                    assert got is expected, where
                else:
                    assert got == expected, where
                if numeric and got is not None:
                    assert isinstance(got, int | float), f"{where} stored as {type(got).__name__}"
    # sentence_labels carries the sentence for reading
    header, rows = _rows(path, "sentence_labels")
    text_of = dict(zip(sentences["sentence_id"], sentences["text"], strict=True))
    assert header[-1] == "text"
    assert all(row[-1] == text_of[row[0]] for row in rows if row[0] != "en-1")


def test_readme_sheet_documents_every_column(tmp_path: Path) -> None:
    annotations, sentences = lab_tables()
    tables, _ = compute_tables(config(), annotations, sentences)
    path = write_workbook(tables, sentences, tmp_path / "summary.xlsx", MANIFEST)
    book = load_workbook(path)
    readme = [tuple(row) for row in book["README"].iter_rows(values_only=True)]
    assert readme[0][0] == f"Summary of {ZH_TITLE}"
    documented = {(row[0], row[1]) for row in readme if len(row) >= 2 and row[1]}
    for sheet in SHEETS:
        header = [cell.value for cell in book[sheet][1]]
        assert header == list(sheet_columns(sheet, header)), sheet
        for column in header:
            assert (sheet, column) in documented, (sheet, column)
    flat = " ".join(str(v) for row in readme for v in row if v)
    assert "UTF-8 with a byte-order mark" in flat and "1.23.2" in flat and "Krippendorff" in flat


def test_text_is_kept_as_text(tmp_path: Path) -> None:
    annotations, sentences = lab_tables()
    long = sentences.copy()
    long.loc[len(long)] = long.iloc[0]
    long.loc[len(long) - 1, ["sentence_id", "text"]] = ["long", "x" * (EXCEL_MAX_TEXT + 10)]
    tables, _ = compute_tables(config(), annotations, sentences)
    path = write_workbook(tables, long, tmp_path / "summary.xlsx", MANIFEST)
    sheet = load_workbook(path)["sentences"]
    header = [c.value for c in sheet[1]]
    cells = {row[0].value: row[header.index("text")] for row in sheet.iter_rows(min_row=2)}
    assert cells["en-0"].value == FORMULA and cells["en-0"].data_type == "s"  # not a formula
    assert cells["en-1"].value == CONTROL.replace("\x0b", "")  # XML cannot hold it
    assert len(cells["long"].value) == EXCEL_MAX_TEXT
    # times are Excel date-times in UTC, not text
    updated = [row[header.index("task_updated_at")].value for row in sheet.iter_rows(min_row=2)]
    assert str(updated[0]) == "2026-03-01 10:00:00"


def test_chinese_article_survives_every_format(tmp_path: Path) -> None:
    article = Article(doc_id="zh", text=ZH_ARTICLE, title=ZH_TITLE, language="zh")
    split = [s.text for s in split_article(article)]
    assert split == ZH_SENTENCES  # 。！？ end sentences; a closing ” stays with its sentence
    annotations, sentences = lab_tables()

    # pull -> Parquet
    write_parquet(sentences, tmp_path / "sentences.parquet")
    write_parquet(annotations, tmp_path / "annotations.parquet")
    parquet = read_table(tmp_path / "sentences.parquet")
    assert parquet.loc[parquet["doc_id"] == "zh", "text"].tolist() == ZH_SENTENCES
    assert parquet.loc[parquet["doc_id"] == "zh", "title"].unique().tolist() == [ZH_TITLE]
    spans = read_table(tmp_path / "annotations.parquet")
    assert "小院高墙" in spans["span_text"].dropna().tolist()
    assert "谁说的？来源不明" in spans.loc[spans["field"] == "comment", "label"].tolist()

    # Parquet -> CSV (UTF-8 with BOM)
    csv_path = write_csv(annotations, tmp_path / "annotations.csv")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert csv["span_text"].dropna().tolist() == annotations["span_text"].dropna().tolist()
    assert csv.loc[csv["field"] == "comment", "label"].tolist() == ["谁说的？来源不明"]
    tables, _ = compute_tables(config(), annotations, sentences)
    write_csv(tables["sentence_labels"].merge(sentences[["sentence_id", "text"]]), tmp_path / "labels.csv")
    labels_csv = pd.read_csv(tmp_path / "labels.csv", encoding="utf-8-sig")
    assert labels_csv.loc[labels_csv["doc_id"] == "zh", "text"].unique().tolist() == ZH_SENTENCES

    # -> xlsx
    path = write_workbook(tables, sentences, tmp_path / "summary.xlsx", MANIFEST)
    header, rows = _rows(path, "sentences")
    texts = [row[header.index("text")] for row in rows if row[header.index("doc_id")] == "zh"]
    assert texts == ZH_SENTENCES
    header, rows = _rows(path, "sentence_labels")
    assert {row[-1] for row in rows if row[1] == "zh"} == set(ZH_SENTENCES)

    # -> README.md
    readme = write_dictionary(tmp_path, MANIFEST, config()).read_text(encoding="utf-8")
    assert f"# {ZH_TITLE}: annotation exports" in readme
    assert "中国（政府与政策）" in readme and ZH_TITLE in readme


def test_chinese_article_round_trip_through_label_studio(tmp_path, make_project, studio, annotator_keys):
    from annotate.outputs.summarize import summarize
    from annotate.studio.client import Connection, Studio
    from annotate.studio.push import prepare, push
    from annotate.workflows import pull

    cfg, cfg_path = make_project(
        title=ZH_TITLE,
        targets=[{"id": "china", "label": "中国（政府与政策）"}, {"id": "us", "label": "美国（政府与政策）"}],
        stance_labels=["支持", "反对", "中立", "未涉及"],
        sentence_types=["事实", "观点"],
        overlap=2,
    )
    source = tmp_path / "zh.txt"
    source.write_text(f"{ZH_TITLE}\n\n{ZH_ARTICLE}\n", encoding="utf-8")
    push(prepare([source], cfg, cfg_path), cfg, studio)
    project = studio.find_project(cfg.name)
    tasks = [t for page, _ in studio.iter_task_pages(int(project["id"]), fields="task_only") for t in page]
    tasks.sort(key=lambda t: t["data"]["sentence_index"])
    assert [t["data"]["text"] for t in tasks] == ZH_SENTENCES

    def choice(name: str, label: str) -> dict[str, Any]:
        return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}

    slogan = ZH_SENTENCES[2].index("小院高墙")
    for _, key in annotator_keys(2):
        with Studio(Connection(studio.url, key, "test")) as me:
            for task in tasks:
                result = [
                    choice("stance_china", "支持"),
                    choice("stance_us", "未涉及"),
                    choice("sentence_type", "观点"),
                ]
                if task["data"]["sentence_index"] == 2:
                    value = {"start": slogan, "end": slogan + 4, "text": "小院高墙", "labels": [cfg.cues[-1]]}
                    result.append(
                        {"from_name": "cues", "to_name": "sentence", "type": "labels", "value": value}
                    )
                    result.append(
                        {
                            "from_name": "comment",
                            "to_name": "sentence",
                            "type": "textarea",
                            "value": {"text": ["“小院高墙”是口号"]},
                        }
                    )
                me.create_annotation(task["id"], result, lead_time=4.0)

    out = tmp_path / "exports"
    pulled = pull(cfg, studio, out)
    folder = pulled.out_dir
    sentences = pd.read_parquet(folder / "sentences.parquet").sort_values("sentence_index")
    assert sentences["text"].tolist() == ZH_SENTENCES
    assert sentences["title"].unique().tolist() == [ZH_TITLE]
    annotations = pd.read_parquet(folder / "annotations.parquet")
    assert annotations["span_text"].dropna().tolist() == ["小院高墙", "小院高墙"]
    assert set(annotations["label"].dropna()) >= {"支持", "未涉及", "观点", "“小院高墙”是口号"}
    csv = pd.read_csv(folder / "annotations.csv", encoding="utf-8-sig")
    assert sorted(csv["label"].dropna()) == sorted(annotations["label"].dropna())

    steps: list[tuple[int, int]] = []
    summarize(cfg, out, progress=lambda done, total: steps.append((done, total)))
    assert [done for done, _ in steps] == list(range(1, SUMMARIZE_STEPS + 1))
    assert {total for _, total in steps} == {SUMMARIZE_STEPS}
    labels = pd.read_csv(folder / "sentence_labels.csv", encoding="utf-8-sig")
    assert set(labels.loc[labels["field"] == "stance_china", "label"]) == {"支持"}
    header, rows = _rows(folder / "summary.xlsx", "sentences")
    assert [row[header.index("text")] for row in rows] == ZH_SENTENCES
    header, rows = _rows(folder / "summary.xlsx", "sentence_labels")
    assert {row[header.index("label")] for row in rows if row[header.index("field")] == "sentence_type"} == {
        "观点"
    }
    assert {row[-1] for row in rows} == set(ZH_SENTENCES)

    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert ZH_TITLE in readme and "中国（政府与政策）" in readme and "支持, 反对, 中立, 未涉及" in readme
    assert studio.conn.api_key not in readme
