"""Reports: any signed-in user flags a listing or a business; moderators work the open ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository
from services.directory.models import Partner, Report, Resource
from services.directory.routes.common import can_see, staff
from services.directory.routes.moderation import take_down
from services.directory.schemas import Reason, Strict
from shared.app import DatabaseDep, PrincipalDep
from shared.errors import Conflict, NotFound

Target = Literal["resource", "partner"]


class ReportIn(Strict):
    target_type: Target
    target_id: UUID
    reason: Reason


class ResolveIn(Strict):
    resolution: Reason
    action: Literal["unpublish"] | None = None
    """"unpublish" also takes the reported listing down."""


class TargetOut(msgspec.Struct, kw_only=True):
    """Enough about the reported thing to judge the report without another request."""

    name: str
    status: str
    partner_slug: str | None


class ReportOut(msgspec.Struct, kw_only=True):
    id: UUID
    target_type: str
    target_id: UUID
    reason: str
    status: str
    reporter_user_id: UUID
    reporter_tenant_id: UUID | None
    created_at: datetime
    resolution: str | None
    resolved_at: datetime | None
    target: TargetOut | None = None


def _out(report: Report, target: TargetOut | None = None) -> ReportOut:
    return ReportOut(
        id=report.id,
        target_type=report.target_type,
        target_id=report.target_id,
        reason=report.reason,
        status=report.status,
        reporter_user_id=report.reporter_user_id,
        reporter_tenant_id=report.reporter_tenant_id,
        created_at=report.created_at,
        resolution=report.resolution,
        resolved_at=report.resolved_at,
        target=target,
    )


async def _can_see(
    session: AsyncSession, target: Target, target_id: UUID, tenant: UUID | None
) -> bool:
    """People report only what they can see; anything else does not exist for them."""
    if target == "partner":
        found = await session.get(Partner, target_id)
        return found is not None and (found.status == "active" or found.tenant_id == tenant)
    resource = await session.scalar(select(Resource).where(Resource.id == target_id))
    return resource is not None and await can_see(session, resource, tenant)


async def _summaries(session: AsyncSession, reports: list[Report]) -> dict[UUID, TargetOut]:
    """Reported listings and businesses in two queries, whatever the number of reports."""
    resource_ids = {r.target_id for r in reports if r.target_type == "resource"}
    resources = (
        await session.execute(
            select(Resource.id, Resource.title, Resource.status, Partner.slug)
            .join(Partner, Partner.tenant_id == Resource.tenant_id)
            .where(Resource.id.in_(resource_ids))
        )
    ).tuples()
    summaries = {
        rid: TargetOut(name=title, status=status, partner_slug=slug)
        for rid, title, status, slug in resources
    }
    partner_ids = {r.target_id for r in reports if r.target_type == "partner"}
    partners = await session.scalars(select(Partner).where(Partner.tenant_id.in_(partner_ids)))
    summaries.update(
        {
            p.tenant_id: TargetOut(name=p.name, status=p.status, partner_slug=p.slug)
            for p in partners
        }
    )
    return summaries


class ReportsController(Controller):
    tags = ["reports"]

    @post("/reports", status_code=201)
    async def report(
        self, data: JSONBody[ReportIn], principal: PrincipalDep, db: DatabaseDep
    ) -> ReportOut:
        """Flag a listing or business to the moderators; one open report per person and target."""
        principal.require_scope("reports:write")
        tenant = principal.tenant_id
        try:
            async with db.transaction(tenant, principal.user_id) as session:
                if not await _can_see(session, data.target_type, data.target_id, tenant):
                    raise NotFound(data.target_type)
                report = Report(
                    reporter_tenant_id=tenant,
                    reporter_user_id=principal.user_id,
                    target_type=data.target_type,
                    target_id=data.target_id,
                    reason=data.reason,
                    status="open",
                )
                session.add(report)
                await session.flush()
                await session.refresh(report)
                return _out(report)
        except IntegrityError as exc:
            raise Conflict("already-reported", "You already have an open report on this.") from exc

    @get("/moderation/reports")
    async def open_reports(
        self,
        principal: PrincipalDep,
        db: DatabaseDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
    ) -> list[ReportOut]:
        """Open reports, oldest first, each with what it is about."""
        staff(principal)
        async with db.transaction(user_id=principal.user_id, staff=True) as session:
            reports = list(
                (
                    await session.scalars(
                        select(Report)
                        .where(Report.status == "open")
                        .order_by(Report.created_at, Report.id)
                        .limit(limit)
                    )
                ).all()
            )
            summaries = await _summaries(session, reports)
        return [_out(r, summaries.get(r.target_id)) for r in reports]

    @post("/moderation/reports/{report_id:uuid}/resolve", status_code=200)
    async def resolve(
        self,
        report_id: FromPath[UUID],
        data: JSONBody[ResolveIn],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> ReportOut:
        """Close a report with what was decided; "unpublish" also takes the listing down."""
        actor = staff(principal)
        async with db.transaction(user_id=actor, staff=True) as session:
            report = await session.get(Report, report_id, with_for_update=True)
            if report is None:
                raise NotFound("report")
            if report.status != "open":
                raise Conflict("report-closed", "This report is already resolved.")
            if data.action == "unpublish":
                if report.target_type != "resource":
                    raise domain.invalid("action", "Only listings can be unpublished.")
                await take_down(session, actor, report.target_id, data.resolution)
            report.status = "resolved"
            report.resolution = data.resolution
            report.resolved_by = actor
            report.resolved_at = datetime.now(UTC)
            await repository.audit(
                session,
                actor,
                "resolve-report",
                report.target_type,
                report.target_id,
                data.resolution,
            )
            await session.flush()
            summaries = await _summaries(session, [report])
            return _out(report, summaries.get(report.target_id))
