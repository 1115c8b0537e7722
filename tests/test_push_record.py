"""The push record's sentence columns (``push_manifest.SentenceTasks``) against a dict."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.studio.push_manifest import PushManifest, SentenceTasks

# a few ids, so that batches repeat them; ids of different lengths (gold ids are longer)
IDS = st.sampled_from(["s0123456789abcdef", "sfedcba9876543210", "s00000000000000aa", "gold-x", "g", "s1"])
DOCS = st.sampled_from(["alpha", "beta", "gamma", None])
BATCH = st.lists(st.tuples(IDS, st.integers(1, 2**40), DOCS), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(BATCH, max_size=6), st.sets(DOCS))
def test_columns_behave_as_a_dict_of_the_latest_task(batches, docs):
    columns = SentenceTasks()
    model: dict[str, tuple[int, str | None]] = {}
    for batch in batches:
        columns.add([s for s, _, _ in batch], [t for _, t, _ in batch], [d for _, _, d in batch])
        for sid, task_id, doc in batch:
            model[sid] = (task_id, doc)  # a dict keeps an id where it first came, with its latest value
    assert columns.as_dict() == model and list(columns.as_dict()) == list(model)
    assert len(columns) == len(model)
    assert columns.task_ids() == [t for t, _ in model.values()]
    assert columns.task_ids(docs) == [t for t, d in model.values() if d in docs]
    assert columns.sentence_ids(docs) == [s for s, (_, d) in model.items() if d in docs]
    again = SentenceTasks.from_json(json.loads(json.dumps(columns.to_json())))
    assert again.as_dict() == model and list(again.as_dict()) == list(model)
    assert SentenceTasks.of(model).as_dict() == model


def test_a_record_counts_tasks_and_keeps_their_sentences():
    record = PushManifest("http://x", 1, None, "shape")
    tasks = [{"data": {"sentence_id": f"s{i}", "doc_id": "d"}} for i in range(3)] + [{"data": {}}]
    record.add_tasks(tasks, [10, 11, 12, 13])
    assert (record.task_number, record.max_task_id, len(record.sentences)) == (4, 13, 3)
    assert record.sentences.task_ids({"d"}) == [10, 11, 12] and record.sentences.task_ids({"e"}) == []


def test_damaged_columns_are_refused():
    good = SentenceTasks.of({"s1": (1, "a")}).to_json()
    with pytest.raises(ValueError):
        SentenceTasks.from_json({**good, "doc_of": [5]})
    with pytest.raises(ValueError):
        SentenceTasks.from_json({**good, "tasks": [1, 2]})
    with pytest.raises(KeyError):
        SentenceTasks.from_json({"ids": ["s1"]})
