"""The chunked sorted list against a plain sorted Python list."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import sortedlist
from routing.sortedlist import SortedList


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 400)), max_size=600), st.integers(0, 400))
def test_matches_a_sorted_list(ops: list[tuple[bool, int]], probe: int) -> None:
    original = sortedlist.LOAD
    sortedlist.LOAD = 4  # force many chunk splits
    try:
        model: list[tuple[int]] = []
        structure = SortedList()
        for add, value in ops:
            key = (value,)
            if add and key not in model:
                model.append(key)
                model.sort()
                structure.add(key)
            elif not add and key in model:
                model.remove(key)
                structure.remove(key)
            assert len(structure) == len(model)
        assert list(structure) == model
        assert structure.first() == (model[0] if model else None)
        for i, key in enumerate(model):
            assert structure.index(key) == i
            assert key in structure
        assert list(structure.iter_after((probe,))) == [k for k in model if k > (probe,)]
        assert ((probe,) in structure) == ((probe,) in model)
    finally:
        sortedlist.LOAD = original


def test_remove_missing_raises() -> None:
    structure = SortedList()
    structure.add((1,))
    try:
        structure.remove((2,))
    except KeyError:
        pass
    else:
        raise AssertionError("expected KeyError")
    structure.discard((2,))
    assert list(structure) == [(1,)]
