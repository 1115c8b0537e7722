"""Reading Label Studio's export a chunk at a time (``annotate.studio.client.iter_json_array``):
the same elements as ``json.loads`` of the whole document, whatever the block size; damaged
documents are an error, never a silently shorter list. No server: the real export path is
exercised by the pull tests."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.studio.client import iter_json_array

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from('ab[]{},:"\\ \n€🙂'), max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_VALUES, max_size=8), st.sampled_from([1, 2, 3, 7, 64, 1 << 22]), st.booleans())
def test_same_elements_as_json_loads_at_any_block_size(items: list, block: int, pretty: bool) -> None:
    document = json.dumps(items, indent=2 if pretty else None, ensure_ascii=False)
    assert list(iter_json_array(io.StringIO(document), block=block)) == json.loads(document)


def test_a_task_export_read_in_small_blocks() -> None:
    text = 'Sentence {}, with [brackets] and "quotes".'
    tasks = [
        {"id": i, "data": {"text": text.format(i)}, "annotations": [{"id": 10 * i, "completed_by": 3}]}
        for i in range(50)
    ]
    document = "  \n" + json.dumps(tasks) + "\n"
    assert list(iter_json_array(io.StringIO(document), block=5)) == tasks


@pytest.mark.parametrize(
    "document",
    ['[{"id": 1}, {"id": 2}', '[{"id": 1} {"id": 2}]', '{"id": 1}', "", '[{"id": 1}, {"id": ', "[1, 2,"],
)
def test_damaged_documents_are_an_error(document: str) -> None:
    for block in (1, 4, 1 << 22):
        with pytest.raises(json.JSONDecodeError):
            list(iter_json_array(io.StringIO(document), block=block))
