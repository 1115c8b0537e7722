"""tidy_annotations on task JSON shaped as Label Studio 1.23 returns it (recorded from a real server)."""

from __future__ import annotations

import pandas as pd

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
