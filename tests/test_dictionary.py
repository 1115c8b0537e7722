"""The data dictionary: every exported column documented (and nothing else), README.md at every pull."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd
from test_estimates import _pull as simulated_pull  # tests/ is on sys.path

from annotate.columns import FILES, SHEETS, TABLE_FILES, sheet_columns
from annotate.config import ProjectConfig, parse_config
from annotate.inference.estimates import cross_predictions, differences, estimate_table
from annotate.ingest.cues import suggestion_rules
from annotate.outputs.dictionary import public_url, render_dictionary, write_dictionary
from annotate.outputs.workbook import sheet_tables
from annotate.quality.agreement import choice_answers
from annotate.quality.anchoring import anchoring_table
from annotate.quality.tables import compute_tables
from annotate.studio.pull import tidy_annotations, tidy_sentences
from annotate.studio.review import tidy_adjudications

F, A, N, X = "Favor", "Against", "Neutral", "Not addressed"
USERS = {1: "ann@example.org", 2: "ben@example.org", 3: "cat@example.org", 4: "judge@example.org"}
MANIFEST = {
    "pulled_at": "2026-03-01T12:00:00+00:00",
    "label_studio_url": "https://reader:s3cret-pass@ls.example.org",
    "label_studio_version": "1.23.2",
    "annotate_version": "0.1.0",
    "project_id": 42,
    "project_name": "dict-test",
    "project_title": "China–US AI coverage",
    "config_sha256": "ab" * 32,
    "pull": "incremental",
    "tasks_fetched": 3,
    "rows": {"sentences": 3, "annotations": 40, "distinct_annotations": 9, "skipped_annotations": 1},
}


def config(cues: bool = True) -> ProjectConfig:
    return parse_config(
        {
            "name": "dict-test",
            "title": "China–US AI coverage",
            "targets": [{"id": "china", "label": "China"}, {"id": "us", "label": "United States"}],
            "stance_labels": [F, A, N, X],
            "sentence_types": ["Fact", "Opinion"],
            "cues": ["Loaded language", "Vague attribution"] if cues else [],
        }
    )


_ids = count(1)


def _choice(name: str, label: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": [label]}}


def _annotation(
    user: int, china: str, span: tuple[int, int, str] | None = None, **flags: bool
) -> dict[str, Any]:
    result = [_choice("stance_china", china), _choice("stance_us", X), _choice("sentence_type", "Fact")]
    if span:
        value = {"start": span[0], "end": span[1], "text": "some", "labels": [span[2]]}
        result.append({"from_name": "cues", "to_name": "sentence", "type": "labels", "value": value})
    return {
        "id": next(_ids),
        "completed_by": user,
        "result": [] if flags.get("skip") else result,
        "was_cancelled": bool(flags.get("skip")),
        "ground_truth": bool(flags.get("gold")),
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
        "lead_time": 9.0,
    }


def _tasks() -> list[dict[str, Any]]:
    texts = ["Some in the US argue the rules work.", "China praised the talks.", "The talks ended."]
    vague = (0, 4, "Vague attribution")
    answers = [
        [_annotation(1, A, vague), _annotation(2, A, vague), _annotation(3, N, (0, 11, "Vague attribution"))],
        [_annotation(1, F), _annotation(2, F), _annotation(3, F, skip=True)],
        [_annotation(4, X, gold=True), _annotation(1, X), _annotation(2, N), _annotation(3, X)],
    ]
    return [
        {
            "id": i + 1,
            "updated_at": "2026-03-01T10:00:00Z",
            "data": {
                "sentence_id": f"s{i}",
                "doc_id": "d",
                "sentence_index": i,
                "text": text,
                "language": "en",
            },
            "annotations": anns,
        }
        for i, (text, anns) in enumerate(zip(texts, answers, strict=True))
    ]


def _review_tasks() -> list[dict[str, Any]]:
    decision = {**_annotation(4, N), "result": [_choice("stance_china", N)]}
    return [{"id": 99, "data": {"sentence_id": "s0"}, "annotations": [decision]}]


def test_every_exported_column_is_documented_and_every_documented_column_exported() -> None:
    tasks = _tasks()
    annotations, sentences = tidy_annotations(tasks, USERS), tidy_sentences(tasks)
    adjudications = tidy_adjudications(_review_tasks(), USERS)
    produced = {
        "sentences.parquet": sentences,
        "annotations.parquet": annotations,
        "adjudications.parquet": adjudications,
    }
    rules = suggestion_rules(config())  # the packaged rules, cut down to the two cues
    tables, _ = compute_tables(config(), annotations, sentences, adjudications, rules=rules)
    assert set(tables) == set(TABLE_FILES)
    for key, name in TABLE_FILES.items():
        assert FILES[name].table == key
        produced[name] = tables[key]
    # the anchoring check, as summarize writes it after annotate learn suggested
    answers = choice_answers(annotations, config().choice_fields())
    sids = sorted(set(answers["sentence_id"]))
    records = pd.DataFrame(
        {
            "sentence_id": sids,
            "doc_id": "d",
            "field": "stance_china",
            "model_label": "Favor",
            "model_probability": 0.6,
            "shown": [i % 2 == 0 for i in range(len(sids))],
            "model_version": "v",
        }
    )
    produced["anchoring.csv"] = anchoring_table(answers, records, n_boot=20)
    # annotate estimate's two files, on the simulated pull of tests/test_estimates.py
    pushed, final = simulated_pull()
    estimates = estimate_table(
        pushed, final, cross_predictions(pushed, final, ["stance_china"], 0), by="outlet"
    )
    produced["estimates.csv"] = estimates
    produced["estimate_differences.csv"] = differences(estimates)
    for name, table in produced.items():
        assert list(table.columns) == list(FILES[name].columns), name
        assert len(table) > 0, name
    # predictions.parquet has a column per field and label: tests/test_predict.py checks it
    documented = {doc.name for doc in FILES.values() if doc.columns and doc.row} - {"predictions.parquet"}
    assert documented == set(produced)

    # without cues the agreement table has no span columns: documented ones stay a superset
    plain, _ = compute_tables(config(cues=False), annotations, sentences)
    assert set(plain["agreement"].columns) < set(FILES["agreement.csv"].columns)

    # every sheet of the workbook
    for sheet, table in sheet_tables(tables, sentences).items():
        assert list(table.columns) == list(sheet_columns(sheet, list(table.columns))), sheet
    assert set(SHEETS) == {"sentences", *TABLE_FILES}

    # every column has a description; units are short
    for doc in FILES.values():
        for name, column in doc.columns.items():
            assert column.description.strip(), f"{doc.name}.{name}"
            assert len(column.unit) <= 20, f"{doc.name}.{name}"


def test_readme_lists_files_columns_units_and_provenance(tmp_path: Path) -> None:
    path = write_dictionary(tmp_path, MANIFEST, config())
    assert path == tmp_path / "README.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# China–US AI coverage: annotation exports\n")
    for doc in FILES.values():
        assert f"### `{doc.name}`" in text
        for column, info in doc.columns.items():
            assert f"| `{column}` | {info.unit} |" in text, (doc.name, column)
    for value in ("2026-03-01T12:00:00+00:00", "1.23.2", "ab" * 32, "Label Studio project 42", "incremental"):
        assert value in text
    assert "sentences 3, annotations 40, distinct_annotations 9, skipped_annotations 1" in text
    assert "UTF-8 with a byte-order mark" in text and "encoding='utf-8-sig'" in text
    assert "| `stance_china` | stance toward China | Favor, Against, Neutral, Not addressed |" in text
    assert "| `cues` | bias-cue spans marked in the sentence | Loaded language, Vague attribution |" in text
    # a password in the server address is never written
    assert "s3cret" not in text and "https://ls.example.org" in text
    assert public_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"
    assert public_url("https://u:p@h.org:8443/a?b=1") == "https://h.org:8443/a?b=1"


def test_markdown_cells_are_escaped() -> None:
    cfg = config().model_copy(update={"title": "A | B"})
    text = render_dictionary({**MANIFEST, "project_title": "x|y\nz"}, cfg)
    assert "“x\\|y z”" in text


def test_pull_writes_the_dictionary_and_never_the_key(tmp_path, make_project, studio, annotator_keys):
    from annotate.studio.client import Connection, Studio
    from annotate.studio.push import prepare, push
    from annotate.workflows import pull

    cfg, cfg_path = make_project()
    article = tmp_path / "a.txt"
    article.write_text(
        "China said it will share its research. Critics were not convinced.\n", encoding="utf-8"
    )
    push(prepare([article], cfg, cfg_path), cfg, studio)
    pid = int(studio.find_project(cfg.name)["id"])
    task = next(t for page, _ in studio.iter_task_pages(pid, fields="task_only") for t in page)
    with Studio(Connection(studio.url, annotator_keys(1)[0][1], "test")) as me:
        me.create_annotation(task["id"], [_choice("stance_china", F)])

    out = tmp_path / "exports"
    result = pull(cfg, studio, out)
    folder = result.out_dir
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest) == list(FILES["manifest.json"].columns)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"Label Studio project {pid}" in readme
    assert manifest["label_studio_version"] in readme and cfg.sha256() in readme
    assert manifest["pulled_at"] in readme and "sentences 2" in readme
    assert studio.conn.api_key not in readme and studio.conn.api_key not in json.dumps(manifest)

    again = pull(cfg, studio, out)
    assert not again.full
    assert "| pull | incremental (" in (folder / "README.md").read_text(encoding="utf-8")
    assert pd.read_parquet(folder / "annotations.parquet")["label"].tolist() == [F]
