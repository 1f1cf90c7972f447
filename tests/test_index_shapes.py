"""The index-shape rule itself: what MongoDB 7 serves from an index, and what it sorts or scans."""

from __future__ import annotations

from tests.index_shapes import Shape, serves, shapes_of


def one(query: dict[str, object], sort: dict[str, int] | None = None) -> Shape:
    [shape] = shapes_of("c", query, sort)
    return shape


def test_equality_then_sort_then_range_is_served() -> None:
    index = (("agency_id", 1), ("start", 1), ("_id", 1))

    assert serves(index, one({"agency_id": "a", "start": {"$gte": 1, "$lt": 2}}, {"start": 1, "_id": 1}))
    assert serves(index, one({"agency_id": "a"}, {"start": -1, "_id": -1}))  # the index read backwards


def test_a_sort_the_index_does_not_carry_in_order_is_done_in_memory() -> None:
    assert not serves((("agency_id", 1), ("created_at", -1)), one({"agency_id": "a"}, {"created_at": -1, "_id": -1}))
    assert not serves((("a", 1), ("b", 1)), one({"a": 1}, {"b": 1, "_id": -1}))  # mixed directions


def test_an_index_whose_first_key_the_query_does_not_bound_is_a_full_scan() -> None:
    assert not serves((("agency_id", 1), ("at", 1)), one({"at": {"$gt": 1}}))
    assert not serves((("at", 1),), one({"handled_by": {"$ne": "x"}}, {"at": 1}))
    assert serves((("at", 1),), one({"at": {"$gt": 1}, "handled_by": {"$ne": "x"}}, {"at": 1}))


def test_or_branches_each_need_an_index() -> None:
    keyset = {"agency_id": "a", "$or": [{"name_key": {"$gt": "k"}}, {"name_key": "k", "_id": {"$gt": "i"}}]}
    shapes = shapes_of("c", keyset, {"name_key": 1, "_id": 1})

    assert len(shapes) == 2
    assert all(serves((("agency_id", 1), ("name_key", 1), ("_id", 1)), s) for s in shapes)
    assert not all(serves((("agency_id", 1), ("name_key", 1)), s) for s in shapes)


def test_in_and_elem_match_pin_a_field_and_exclusions_do_not() -> None:
    shape = one({"_id": {"$in": [1, 2]}, "tags": {"$elemMatch": {"x": 1}}, "gone": {"$exists": False}})

    assert shape.pinned == {"_id", "tags"} and shape.excluded == {"gone"}
