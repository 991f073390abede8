"""Directory search as SQL: a search request becomes a keyset-paged query and its facet counts.

Kept free of HTTP and sessions so the endpoint, the tests and the benchmark run the very same
statements. Visibility is part of every statement (published listings of active businesses,
public or shared with one of the caller's alliances); the caller's tenant setting and row-level
security stay the second wall.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple
from uuid import UUID

import msgspec
from sqlalchemy import (
    BigInteger,
    BindParameter,
    CompoundSelect,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    Subquery,
    Uuid,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG, aggregate_order_by
from sqlalchemy.orm import defer
from sqlalchemy.sql.elements import ColumnElement

from services.directory.models import (
    AllianceMember,
    Category,
    Partner,
    Photo,
    Resource,
    ResourceAlliance,
    SearchWord,
)
from shared.errors import Problem

EARTH_RADIUS_M = 6378168.0
"""earthdistance's earth(): one sphere for the box and the exact distance."""
WITHOUT_VECTOR = defer(Resource.search)
"""Pages skip the stored text vector; built once, as building load options is not cheap."""
MAX_WORDS = 5
"""Words of a query that get typo tolerance."""
LOOKALIKES = 3
Sort = Literal["relevance", "distance", "price", "newest"]
DESCENDING: dict[str, bool] = {
    "relevance": True,
    "distance": False,
    "price": False,
    "newest": True,
}
"""Direction of each sort's key; ties always break on the listing id, ascending."""


class Near(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float
    longitude: float
    radius_km: float | None = None


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A validated search: filters, sort, and which business is asking (its own and its
    alliances' listings)."""

    sort: Sort
    q: str | None = None
    alternatives: tuple[tuple[str, ...], ...] = ()
    """Per word of `q`: the word and known title words it resembles (typo tolerance)."""
    kind: str | None = None
    category_ids: tuple[int, ...] | None = None
    min_price: int | None = None
    max_price: int | None = None
    free: bool = False
    instant: bool = False
    alliance_only: bool = False
    near: Near | None = None
    with_hours: bool = False
    """Only listings with some opening hours: the SQL half of an "open during" search."""
    viewer_tenant: UUID | None = None


class PhotoRow(msgspec.Struct, frozen=True):
    """A photo as a page's JSON column carries it (the keys `_photos` builds)."""

    id: UUID
    content_type: str
    approved: bool


PHOTO_ROWS = msgspec.json.Decoder(list[PhotoRow])
PageRow = tuple[Resource, Any, str | None, bool | None, str | None, list[UUID], str]
"""A listing, its sort key, its business's slug and whether it takes payments, its category's
slug (None without one), the alliances it is shared with and its photos (JSON of PhotoRow)."""


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the sort it belongs to, the last sort key and the last id."""

    sort: str
    key: Any
    id: UUID


def _text(name: str) -> BindParameter[str]:
    return bindparam(name, type_=String)


def _number(name: str) -> BindParameter[float]:
    return bindparam(name, type_=Float(53))


def words(q: str) -> list[str]:
    """The first words of a query, split and lowercased as the 'simple' text config does."""
    return re.findall(r"\w+", q.lower())[:MAX_WORDS]


@functools.lru_cache(maxsize=MAX_WORDS + 1)
def _lookalikes(count: int) -> CompoundSelect[tuple[str, str]]:
    per_word = [
        select(_text(f"typed{i}").label("typed"), SearchWord.word)
        .where(SearchWord.word.op("%")(_text(f"typed{i}")))
        .order_by(func.similarity(SearchWord.word, _text(f"typed{i}")).desc())
        .limit(LOOKALIKES)
        for i in range(count)
    ]
    return union_all(*(select(s.subquery()) for s in per_word))


def lookalikes(typed: Sequence[str]) -> tuple[CompoundSelect[tuple[str, str]], dict[str, str]]:
    """Per typed word, the known title words closest to it (pg_trgm similarity), best first;
    a correctly spelt word comes back as itself, first."""
    return _lookalikes(len(typed)), {f"typed{i}": word for i, word in enumerate(typed)}


def alternatives(
    typed: Sequence[str], found: Iterable[tuple[str, str]]
) -> tuple[tuple[str, ...], ...]:
    """Each typed word with the words it may have meant; known words stand for themselves."""
    similar: dict[str, list[str]] = {word: [] for word in typed}
    for word, known in found:
        similar[word].append(known)
    return tuple(
        (word,) if not similar[word] or similar[word][0] == word else (word, *similar[word])
        for word in typed
    )


class Shape(NamedTuple):
    """What a statement looks like, apart from its values: one prepared template per shape."""

    sort: Sort
    words: tuple[int, ...] | None
    """Per word of the text query, how many spellings it has; None without text."""
    kind: bool
    category: bool
    min_price: bool
    max_price: bool
    free: bool
    instant: bool
    alliance_only: bool
    near: bool
    radius: bool
    with_hours: bool
    tenant: bool
    after: bool

    @classmethod
    def of(cls, query: Query, after: Cursor | None = None) -> Shape:
        near = query.near
        return cls(
            sort=query.sort,
            words=tuple(len(w) for w in query.alternatives) if query.q else None,
            kind=query.kind is not None,
            category=query.category_ids is not None,
            min_price=query.min_price is not None,
            max_price=query.max_price is not None,
            free=query.free,
            instant=query.instant,
            alliance_only=query.alliance_only,
            near=near is not None,
            radius=near is not None and near.radius_km is not None,
            with_hours=query.with_hours,
            tenant=query.viewer_tenant is not None,
            after=after is not None,
        )


def values(query: Query, after: Cursor | None = None, size: int = 0) -> dict[str, Any]:
    """The values a statement's template binds, under the names the builders below use."""
    bound: dict[str, Any] = {
        "size": size,
        "q": query.q,
        "kind": query.kind,
        "category_ids": list(query.category_ids or ()),
        "min_price": query.min_price,
        "max_price": query.max_price,
        "tenant": query.viewer_tenant,
    }
    for i, spellings in enumerate(query.alternatives):
        bound.update({f"w{i}_{j}": word for j, word in enumerate(spellings)})
    if query.near is not None:
        bound["lat"], bound["lon"] = query.near.latitude, query.near.longitude
        bound["cos_lat"] = math.cos(math.radians(query.near.latitude))
        bound["metres"] = (query.near.radius_km or 0) * 1000
    if after is not None:
        bound["after_key"], bound["after_id"] = after.key, after.id
    return bound


def _config() -> ColumnElement[Any]:
    return cast(literal("simple"), REGCONFIG)


def _combine(operator: str, parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """tsqueries joined with || (any of) or && (all of)."""
    result = parts[0]
    for part in parts[1:]:
        result = result.op(operator)(part)
    return result


def _tsquery(shape: Shape) -> ColumnElement[Any]:
    """The words as typed (web-search syntax), or each word replaced by any of its lookalikes."""
    assert shape.words is not None, "only text searches have a text query"
    typed = func.websearch_to_tsquery(_config(), bindparam("q", type_=String))
    if not any(n > 1 for n in shape.words):
        return typed
    per_word = [
        _combine("||", [func.plainto_tsquery(_config(), _text(f"w{i}_{j}")) for j in range(n)])
        for i, n in enumerate(shape.words)
    ]
    return typed.op("||")(_combine("&&", per_word))


def _distance() -> ColumnElement[float]:
    """Great-circle metres (haversine) on earthdistance's sphere, so it agrees with earth_box.

    Plain arithmetic costs a tenth of earth_distance, whose SQL functions run row by row.
    """
    lat, lon = Resource.latitude, Resource.longitude
    half_lat = func.sin(func.radians(lat - _number("lat")) / 2)
    half_lon = func.sin(func.radians(lon - _number("lon")) / 2)
    h = half_lat * half_lat + _number("cos_lat") * func.cos(func.radians(lat)) * half_lon * half_lon
    return 2 * EARTH_RADIUS_M * func.asin(func.sqrt(func.least(h, 1.0)))


def _visible(shape: Shape) -> ColumnElement[bool]:
    """Public listings, the caller's own, and alliance-only ones shared with an alliance it is a
    member of (looked up in the statement itself, which saves a round trip)."""
    allowed: list[ColumnElement[bool]] = [Resource.visibility == "public"]
    if shape.tenant:
        tenant = bindparam("tenant", type_=Uuid)
        member_of = select(AllianceMember.alliance_id).where(
            AllianceMember.tenant_id == tenant, AllianceMember.status == "member"
        )
        allowed += [
            Resource.tenant_id == tenant,
            exists().where(
                ResourceAlliance.tenant_id == Resource.tenant_id,
                ResourceAlliance.resource_id == Resource.id,
                ResourceAlliance.alliance_id.in_(member_of),
            ),
        ]
    return or_(*allowed)


def conditions(shape: Shape, *, facets: bool = False) -> list[ColumnElement[bool]]:
    """Every filter of the search; for `facets`, all but the kind and category filters."""
    # NOT IN over the few inactive businesses plans as one hashed lookup, whatever the estimates.
    inactive = select(Partner.tenant_id).where(Partner.status != "active")
    unpaid = select(Partner.tenant_id).where(Partner.charges_enabled.is_(False))
    where: list[ColumnElement[bool]] = [
        Resource.status == "published",
        Resource.tenant_id.not_in(inactive),
        # A paid listing only while its business can take payments (domain.bookable).
        or_(Resource.price_amount == 0, Resource.tenant_id.not_in(unpaid)),
        _visible(shape),
    ]
    if shape.words is not None:
        where.append(Resource.search.op("@@")(_tsquery(shape)))
    if shape.kind and not facets:
        where.append(Resource.kind == _text("kind"))
    if shape.category and not facets:
        where.append(Resource.category_id.in_(bindparam("category_ids", expanding=True)))
    if shape.min_price:
        where.append(Resource.price_amount >= bindparam("min_price", type_=BigInteger))
    if shape.max_price:
        where.append(Resource.price_amount <= bindparam("max_price", type_=BigInteger))
    if shape.free:
        where.append(Resource.price_amount == 0)
    if shape.instant:
        where.append(Resource.rules["instant_book"].astext == "true")
    if shape.alliance_only:
        where.append(Resource.visibility == "alliance")
    if shape.radius:
        where += [Resource.latitude.is_not(None), _distance() <= _number("metres")]
        if shape.words is None:
            # The box uses the GiST index ix_resources_earth. With words, the text index finds
            # fewer rows than a city-wide box, but the planner rates every box as very
            # selective (a fixed estimate) and would pick it, so it is left out then.
            here = func.ll_to_earth(_number("lat"), _number("lon"))
            there = func.ll_to_earth(Resource.latitude, Resource.longitude)
            where.append(func.earth_box(here, _number("metres")).op("@>")(there))
    if shape.with_hours:
        extra_opening = Resource.availability["exceptions"].contains([{"closed": False}])
        where.append(
            or_(func.jsonb_array_length(Resource.availability["weekly"]) > 0, extra_opening)
        )
    return where


KEY_TYPES: dict[str, Any] = {
    "relevance": Float(53),
    "distance": Float(53),
    "price": BigInteger(),
    "newest": DateTime(timezone=True),
}


def sort_key(shape: Shape) -> ColumnElement[Any]:
    """The value a sort orders by, as double precision so cursor comparisons are exact."""
    if shape.sort == "relevance":
        return cast(func.ts_rank(Resource.search, _tsquery(shape)), Float(53))
    if shape.sort == "distance":
        assert shape.near, "distance needs a point to measure from"
        # Listings without a location come last rather than disappearing.
        return func.coalesce(_distance(), literal(float("inf"), Float(53)))
    if shape.sort == "price":
        return Resource.price_amount.expression
    return Resource.published_at.expression


def _alliance_ids() -> ColumnElement[list[UUID]]:
    """The alliances a listing is shared with (owners see them on their own listings)."""
    shared = select(ResourceAlliance.alliance_id).where(
        ResourceAlliance.tenant_id == Resource.tenant_id,
        ResourceAlliance.resource_id == Resource.id,
    )
    return func.array(shared.scalar_subquery(), type_=ARRAY(Uuid))


def _photos() -> ColumnElement[str]:
    """The listing's photos row-level security lets the caller read, in display order, as a
    JSON array of PhotoRow; text, so msgspec decodes it straight into structs."""
    item = func.json_build_object(
        "id", Photo.id, "content_type", Photo.content_type, "approved", Photo.approved
    )
    ordered = aggregate_order_by(item, Photo.position, Photo.created_at)
    listed = select(func.json_agg(ordered)).where(
        Photo.tenant_id == Resource.tenant_id, Photo.resource_id == Resource.id
    )
    return func.coalesce(cast(listed.scalar_subquery(), String), literal_column("'[]'"))


@functools.lru_cache(maxsize=512)
def _page(shape: Shape) -> Select[PageRow]:
    key = sort_key(shape)
    descending = DESCENDING[shape.sort]
    inner = select(Resource.id, key.label("sort_key")).where(*conditions(shape))
    if shape.after:
        after_key = bindparam("after_key", type_=KEY_TYPES[shape.sort])
        after_id = bindparam("after_id", type_=Uuid)
        beyond = key < after_key if descending else key > after_key
        # The plain bound is redundant but lets an index on the key start at the cursor.
        bound = key <= after_key if descending else key >= after_key
        inner = inner.where(bound, or_(beyond, and_(key == after_key, Resource.id > after_id)))
    order = key.desc() if descending else key.asc()
    found = inner.order_by(order, Resource.id).limit(bindparam("size", type_=Integer)).subquery()
    return (
        select(
            Resource,
            found.c.sort_key,
            Partner.slug,
            Partner.charges_enabled,
            Category.slug,
            _alliance_ids(),
            _photos(),
        )
        .join(found, found.c.id == Resource.id)
        .outerjoin(Partner, Partner.tenant_id == Resource.tenant_id)
        .outerjoin(Category, Category.id == Resource.category_id)
        .options(WITHOUT_VECTOR)
        .order_by(found.c.sort_key.desc() if descending else found.c.sort_key.asc(), found.c.id)
    )


Statement = tuple[Select[Any], dict[str, Any]]


def page(query: Query, after: Cursor | None, size: int) -> Statement:
    """Up to `size` listings after the cursor, in the sort's order; never OFFSET.

    The inner query sorts narrow (id, key) rows; only the page's rows are then read whole,
    each with what its public shape needs besides (PageRow), so that showing a page takes no
    further round trip.
    Statements are templates cached per shape (building one costs more than running it for
    a small page), executed with `values`.
    """
    return _page(Shape.of(query, after)), values(query, after, size)


def _lineage() -> Subquery:
    """Each category's slug followed by its ancestors' slugs, nearest first: the facets a
    listing of that category counts in (the tree is a small table)."""
    up = select(
        Category.id.label("id"),
        Category.id.label("ancestor"),
        literal_column("0", Integer).label("depth"),
    ).cte("up", recursive=True)
    up = up.union_all(
        select(up.c.id, Category.parent_id, up.c.depth + 1)
        .join(Category, Category.id == up.c.ancestor)
        .where(Category.parent_id.is_not(None))
    )
    slugs = func.array_agg(aggregate_order_by(Category.slug, up.c.depth))
    return (
        select(up.c.id, slugs.label("slugs"))
        .join(Category, Category.id == up.c.ancestor)
        .group_by(up.c.id)
        .subquery("lineage")
    )


FacetRow = tuple[str, int | None, int, list[str] | None]
"""A kind, a category (or None), how many listings have both, and the category's lineage."""


@functools.lru_cache(maxsize=512)
def _facet_table(shape: Shape) -> Select[FacetRow]:
    counted = (
        select(Resource.kind, Resource.category_id, func.count().label("listings"))
        .where(*conditions(shape, facets=True))
        .group_by(Resource.kind, Resource.category_id)
        .subquery("counted")
    )
    lineage = _lineage()
    return (
        select(counted.c.kind, counted.c.category_id, counted.c.listings, lineage.c.slugs)
        .select_from(counted)
        .outerjoin(lineage, lineage.c.id == counted.c.category_id)
    )


def facet_table(query: Query) -> Statement:
    """Listings per (kind, category) for the search without its kind and category filters, with
    each category's lineage, so that the facets need no look at the category tree.

    One scan gives both facets: each is this table with the other facet's filter applied.
    """
    return _facet_table(Shape.of(query)), values(query)


def facets(query: Query, table: Iterable[FacetRow]) -> dict[str, dict[str, int]]:
    """Counts per kind and per category (descendants included, as the category filter does),
    each without its own filter so that a client can show what choosing another would give."""
    kinds: dict[str, int] = {}
    categories: dict[str, int] = {}
    for kind, category_id, count, lineage in table:
        if query.category_ids is None or category_id in query.category_ids:
            kinds[kind] = kinds.get(kind, 0) + count
        if query.kind in (None, kind):
            for slug in lineage or ():
                categories[slug] = categories.get(slug, 0) + count
    return {"kind": kinds, "category": categories}


def encode_cursor(cursor: Cursor) -> str:
    key = cursor.key.isoformat() if isinstance(cursor.key, datetime) else cursor.key
    raw = json.dumps([cursor.sort, key, str(cursor.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> Problem:
    return Problem(400, "invalid-cursor", "The cursor is not one this search handed out.")


def decode_cursor(text: str, sort: Sort) -> Cursor:
    """The cursor back from its opaque form; it must belong to the same sort."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor_sort, value, resource_id = json.loads(raw)
        key: Any = datetime.fromisoformat(value) if sort == "newest" else value
        cursor = Cursor(sort=cursor_sort, key=key, id=UUID(resource_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise _bad_cursor() from exc
    numeric = isinstance(key, int | float) and not isinstance(key, bool)
    aware = isinstance(key, datetime) and key.tzinfo is not None
    if cursor.sort != sort or not (aware if sort == "newest" else numeric):
        raise _bad_cursor()
    if sort == "price" and not isinstance(key, int):
        raise _bad_cursor()
    return cursor
