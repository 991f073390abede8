"""Facet counts from the (kind, category, count, lineage) table, without I/O."""

from __future__ import annotations

from services.directory import search

TABLE: list[search.FacetRow] = [
    ("space", 3, 2, ["kitchens", "space"]),
    ("equipment", 5, 1, ["hand-tools", "equipment"]),
    ("space", None, 4, None),
]


def test_a_listing_counts_in_its_category_and_every_ancestor() -> None:
    assert search.facets(search.Query(sort="newest"), TABLE) == {
        "kind": {"space": 6, "equipment": 1},
        "category": {"kitchens": 2, "space": 2, "hand-tools": 1, "equipment": 1},
    }


def test_each_facet_applies_the_other_filter_but_not_its_own() -> None:
    query = search.Query(sort="newest", kind="space", category_ids=(3,))
    assert search.facets(query, TABLE) == {
        "kind": {"space": 2},
        "category": {"kitchens": 2, "space": 2},
    }
