"""tidy_annotations on task JSON shaped as Label Studio 1.23 returns it (recorded from a real server)."""

from __future__ import annotations

import pandas as pd
import pytest

from annotate.studio.pull import python_offsets, tidy_annotations

TASK = {
    "id": 7,
    "data": {"text": "Fans 😀 cheered the “decoupling” talk.", "sentence_id": "s1", "doc_id": "d"},
    "updated_at": "2026-11-26T21:52:48.092712Z",
    "annotations": [
        {
            "id": 11,
            "completed_by": 2,
            "was_cancelled": False,
            "ground_truth": False,
            "created_at": "2026-11-26T21:52:48.066823Z",
            "updated_at": "2026-11-26T21:52:48.066853Z",
            "lead_time": 12.5,
            "result": [
                {
                    "from_name": "stance_china",
                    "to_name": "sentence",
                    "type": "choices",
                    "value": {"choices": ["Favor"]},
                },
                # the editor counts UTF-16 code units: the emoji is two of them
                {
                    "from_name": "cues",
                    "to_name": "sentence",
                    "type": "labels",
                    "value": {
                        "start": 20,
                        "end": 32,
                        "text": "“decoupling”",
                        "labels": ["Slogan or metaphor"],
                    },
                },
                {
                    "from_name": "comment",
                    "to_name": "sentence",
                    "type": "textarea",
                    "value": {"text": ["odd"]},
                },
            ],
        },
        {"id": 12, "completed_by": {"id": 3, "email": "b@example.org"}, "was_cancelled": True, "result": []},
    ],
}


def test_rows_per_field_label_and_span():
    df = tidy_annotations([TASK], {2: "a@example.org"})
    assert df["annotator"].tolist() == ["a@example.org"] * 3 + ["b@example.org"]
    assert df["field"].tolist()[:3] == ["stance_china", "cues", "comment"]
    cue = df[df["field"] == "cues"].iloc[0]
    text = TASK["data"]["text"]
    assert text[cue["start"] : cue["end"]] == "“decoupling”" == cue["span_text"]
    skipped = df[df["annotation_id"] == 12].iloc[0]
    assert bool(skipped["cancelled"]) and pd.isna(skipped["field"])
    assert df.loc[df["annotation_id"] == 11, "lead_time"].tolist() == [12.5] * 3


def test_python_offsets_keep_offsets_that_already_match():
    assert python_offsets("abc 😀 def", 0, 3, "abc") == (0, 3)
    assert python_offsets("abc 😀 def", 6, 9, "def") == (6, 9)  # Python indices already right
    assert python_offsets("abc 😀 def", 7, 10, "def") == (6, 9)  # UTF-16 units converted


def test_chunked_tables_equal_the_whole_export() -> None:
    """A full pull tidies the export a chunk at a time and concatenates: the same tables, dtypes
    included, as tidying every task at once, also when a chunk lacks a column's values (no
    author, no annotation, only skips)."""
    import copy

    from annotate.studio.pull import _concat, tidy_sentences

    tasks = []
    for i in range(23):
        task = copy.deepcopy(TASK)
        task["id"] = 100 + i
        task["data"] = {**task["data"], "sentence_id": f"s{i}", "doc_id": f"d{i // 5}"}
        if i % 5 == 0:
            task["data"]["metadata"] = {"author": f"Writer {i}"}
        if i % 4 == 1:
            task["annotations"] = []
        elif i % 4 == 2:
            task["annotations"] = [task["annotations"][1]]
        for j, ann in enumerate(task["annotations"]):
            ann["id"] = 1000 + 10 * i + j
        tasks.append(task)
    users = {2: "a@example.org"}
    for size in (1, 4, 7, 23):
        chunks = [tasks[k : k + size] for k in range(0, len(tasks), size)]
        annotations = _concat(
            [tidy_annotations(c, users) for c in chunks], lambda: tidy_annotations([], users)
        )
        sentences = _concat([tidy_sentences(c) for c in chunks], lambda: tidy_sentences([]))
        pd.testing.assert_frame_equal(annotations, tidy_annotations(tasks, users))
        pd.testing.assert_frame_equal(sentences, tidy_sentences(tasks))


@pytest.mark.parametrize("shuffle", [False, True], ids=["export order", "chunks out of order"])
@pytest.mark.parametrize("show_names", [False, True])
def test_a_full_pull_streamed_writes_what_the_whole_table_gives(
    tmp_path, monkeypatch: pytest.MonkeyPatch, shuffle: bool, show_names: bool
) -> None:
    """_full_pull spills the chunks' rows and writes them back a range of tasks at a time: the
    same annotations.parquet (dtypes included), the same annotations.csv bytes and the same
    pseudonyms as tidying, naming, typing and sorting the whole export at once; also when the
    chunks overlap in task ids (ranges of 5 rows here) and with e-mails shown."""
    import copy
    import random

    from annotate.files import write_csv, write_parquet
    from annotate.keys import ProjectKeys
    from annotate.studio import pull as pull_module

    tasks = []
    for i in range(40):
        task = copy.deepcopy(TASK)
        task["id"] = 500 - 7 * i if shuffle and i % 3 == 0 else 100 + i  # ids out of export order
        task["data"] = {
            **task["data"],
            "sentence_id": f"s{i}",
            "doc_id": f"d{i // 6}",
            "sentence_index": i % 6,
        }
        for j, ann in enumerate(task["annotations"]):
            ann["id"] = 1000 + 10 * i + j
            ann["completed_by"] = 2 + (i * 7 + j) % 4  # four annotators, first seen out of id order
        tasks.append(task)
    if shuffle:
        random.Random(1).shuffle(tasks)
    users = {2: "d@example.org", 3: "c@example.org", 4: "b@example.org", 5: "a@example.org"}
    order = {email: uid for uid, email in users.items()}
    monkeypatch.setattr(pull_module, "SPILL_RANGE_ROWS", 5)

    whole = tidy_annotations(tasks, users)
    reference_keys = ProjectKeys("p", None, {}, None)
    whole["annotator"] = reference_keys.display(whole["annotator"], show_names, order)
    whole = pull_module._typed_annotations(whole[pull_module.ANNOTATION_COLUMNS])
    whole, sentences = pull_module._sort(whole, pull_module.tidy_sentences(tasks))
    write_parquet(whole, tmp_path / "whole.parquet")
    write_csv(whole, tmp_path / "whole.csv")

    keys = ProjectKeys("p", None, {}, None)
    chunks = [tasks[k : k + 7] for k in range(0, len(tasks), 7)]
    folder = tmp_path / "pulled"
    got_sentences, counts, fetched, closed = pull_module._full_pull(
        iter(chunks), keys, users, order, show_names, folder, None
    )
    assert (fetched, closed) == (len(tasks), 0)
    assert keys.annotators == reference_keys.annotators
    pd.testing.assert_frame_equal(got_sentences, sentences)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "sentences.parquet"), sentences)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "annotations.parquet"), whole)
    assert (folder / "annotations.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert counts == {
        "annotations": len(whole),
        "distinct_annotations": whole["annotation_id"].nunique(),
        "skipped_annotations": whole.loc[whole["cancelled"], "annotation_id"].nunique(),
    }
