"""Search over live listings: full text with typo tolerance, filters, radius, opening hours,
facets and stable cursor pages. The SQL lives in services.directory.search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository, search
from services.directory.models import Resource
from services.directory.routes.common import Companions, shown
from services.directory.schemas import Kind, ResourceOut
from shared.app import DatabaseDep, OptionalPrincipalDep
from shared.availability import Availability, is_open

SCAN_BUDGET = 1000
"""Candidates one "open during" page may check in Python before it hands back a cursor."""
LONGEST_WINDOW = timedelta(days=31)


class SearchOut(msgspec.Struct, kw_only=True):
    results: list[ResourceOut]
    next_cursor: str | None
    """Pass back as `cursor` for the next page; null on the last page."""
    facets: dict[str, dict[str, int]]
    """Listings per kind and per category (descendants included) for the same search, each
    without its own filter."""


Window = tuple[datetime, datetime]


def _window(open_from: datetime | None, open_to: datetime | None) -> Window | None:
    if open_from is None and open_to is None:
        return None
    if open_from is None or open_to is None:
        raise domain.invalid("open_from", "Give both open_from and open_to.")
    if open_to <= open_from:
        raise domain.invalid("open_to", "open_to must come after open_from.")
    if open_to - open_from > LONGEST_WINDOW:
        raise domain.invalid("open_to", "Search windows are at most 31 days long.")
    return open_from, open_to


def _near(lat: float | None, lon: float | None, radius_km: float | None) -> search.Near | None:
    if lat is None and lon is None:
        if radius_km is not None:
            raise domain.invalid("radius_km", "A radius needs lat and lon.")
        return None
    if lat is None or lon is None:
        raise domain.invalid("lat" if lat is None else "lon", "Give both lat and lon.")
    return search.Near(latitude=lat, longitude=lon, radius_km=radius_km)


def _sort(requested: search.Sort | None, q: str | None, near: search.Near | None) -> search.Sort:
    sort = requested or ("relevance" if q else "newest")
    if sort == "relevance" and not q:
        raise domain.invalid("sort", "Sorting by relevance needs a text query q.")
    if sort == "distance" and near is None:
        raise domain.invalid("sort", "Sorting by distance needs lat and lon.")
    return sort


def _open(resource: Resource, window: Window) -> bool:
    return is_open(msgspec.convert(resource.availability, Availability), *window)


async def _page(
    session: AsyncSession,
    query: search.Query,
    after: search.Cursor | None,
    limit: int,
    window: Window | None,
) -> tuple[list[search.PageRow], search.Cursor | None]:
    """One page of listings and the cursor after it.

    Opening hours live in JSON rules evaluated per local date (DST-correct), which SQL cannot
    index, so SQL narrows the candidates and Python checks each against the window. Pages of
    such a search are filled by reading further batches; after SCAN_BUDGET candidates a page
    may come back short with a cursor, so clients follow `next_cursor`, never the page size.
    """
    kept: list[search.PageRow] = []
    batch = limit + 1 if window is None else max(4 * limit, 50)
    budget = SCAN_BUDGET
    while True:
        rows = (await session.execute(*search.page(query, after, batch))).tuples().all()
        for row in rows:
            if len(kept) == limit:
                last, last_key = kept[-1][:2]
                return kept, search.Cursor(sort=query.sort, key=last_key, id=last.id)
            resource, key = row[:2]
            after = search.Cursor(sort=query.sort, key=key, id=resource.id)
            if window is None or _open(resource, window):
                kept.append(row)
        budget -= len(rows)
        if len(rows) < batch:
            return kept, None
        if budget <= 0:
            return kept, after


def _shown(row: search.PageRow, viewer: UUID | None) -> ResourceOut:
    resource, _key, partner_slug, charges_enabled, category_slug, alliance_ids, photos = row
    companions = Companions(
        alliance_ids=alliance_ids,
        photos=search.PHOTO_ROWS.decode(photos),
        category_slug=category_slug,
        partner_slug=partner_slug,
        charges_enabled=bool(charges_enabled),
    )
    return shown(resource, companions, own=viewer == resource.tenant_id)


async def _facets(session: AsyncSession, query: search.Query) -> dict[str, dict[str, int]]:
    return search.facets(query, (await session.execute(*search.facet_table(query))).tuples().all())


class SearchController(Controller):
    path = "/search"
    tags = ["search"]

    @get("/")
    async def search(
        self,
        db: DatabaseDep,
        viewer: OptionalPrincipalDep,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        kind: FromQuery[Kind | None] = None,
        category: Annotated[str | None, QueryParameter(max_length=60)] = None,
        min_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        max_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        free: FromQuery[bool] = False,
        instant: FromQuery[bool] = False,
        alliance_only: FromQuery[bool] = False,
        lat: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
        lon: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
        radius_km: Annotated[float | None, QueryParameter(gt=0, le=1000)] = None,
        open_from: Annotated[
            datetime | None, QueryParameter(description="RFC 3339, with its UTC offset")
        ] = None,
        open_to: Annotated[datetime | None, QueryParameter(description="RFC 3339")] = None,
        sort: FromQuery[search.Sort | None] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=400)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
        facets: FromQuery[bool] = True,
    ) -> SearchOut:
        """Live listings the caller may see; relevance first when `q` is given, else newest."""
        words = (q or "").strip() or None
        if min_price is not None and max_price is not None and min_price > max_price:
            raise domain.invalid("min_price", "min_price is above max_price.")
        near = _near(lat, lon, radius_km)
        window = _window(open_from, open_to)
        order = _sort(sort, words, near)
        after = search.decode_cursor(cursor, order) if cursor else None
        tenant = viewer.tenant_id if viewer else None
        async with db.transaction(tenant, viewer.user_id if viewer else None) as session:
            category_ids = None
            if category is not None:
                category_ids = tuple(await repository.category_ids_under(session, category))
                if not category_ids:
                    raise domain.invalid("category", f"Unknown category {category!r}.")
            typed = search.words(words) if words else []
            found: Sequence[tuple[str, str]] = []
            if typed:
                found = (await session.execute(*search.lookalikes(typed))).tuples().all()
            query = search.Query(
                sort=order,
                q=words,
                alternatives=search.alternatives(typed, found),
                kind=kind,
                category_ids=category_ids,
                min_price=min_price,
                max_price=max_price,
                free=free,
                instant=instant,
                alliance_only=alliance_only,
                near=near,
                with_hours=window is not None,
                viewer_tenant=tenant,
            )
            rows, following = await _page(session, query, after, limit, window)
            return SearchOut(
                results=[_shown(row, tenant) for row in rows],
                next_cursor=search.encode_cursor(following) if following else None,
                facets=await _facets(session, query) if facets else {},
            )
