"""Receipts and statements: built from billing's rows without I/O, rendered as JSON, HTML, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.billing.domain import booked_what, format_money
from services.billing.models import LedgerTransaction, Payment, Tenant
from services.billing.schemas import (
    Party,
    ReceiptLine,
    ReceiptOut,
    StatementLine,
    Totals,
)
from shared.money import decimal

RECEIPT_PATH = "/api/billing/bookings/{booking_id}/receipt.html"


def zone_of(tenant_id: UUID, names: Mapping[UUID, Tenant]) -> str:
    """The provider's zone, in which documents write a booking's times; UTC if unknown."""
    known = names.get(tenant_id)
    return _zone(known.timezone if known else "UTC").key


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # accounts checks zones; never fail a receipt
        return ZoneInfo("UTC")


def booked_when(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """A booking's window as people there read it: "2026-11-25 09:00 to 12:00 (Europe/Paris)",
    the end's date written only when it falls on another day."""
    tz = _zone(zone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} to {until} ({tz.key})"


def _party(tenant_id: UUID, names: Mapping[UUID, Tenant]) -> Party:
    known = names.get(tenant_id)
    return Party(tenant_id=tenant_id, name=known.name if known else f"Business {tenant_id}")


def _line(label: str, amount: int, currency: str) -> ReceiptLine:
    return ReceiptLine(label=label, amount=amount, formatted=format_money(amount, currency))


def receipt(
    row: Payment, names: Mapping[UUID, Tenant], paid_at: datetime, *, test_mode: bool
) -> ReceiptOut:
    """What the customer paid whom, for which booking, what came back and what the fee was."""
    currency, zone = row.currency, zone_of(row.tenant_id, names)
    lines = [
        _line(
            f"{booked_what(row.title, row.booking_id)}, "
            f"{booked_when(row.starts_at, row.ends_at, zone)}",
            row.captured_amount,
            currency,
        )
    ]
    if row.refunded_amount:
        lines.append(_line("Refunded", -row.refunded_amount, currency))
    return ReceiptOut(
        test_mode=test_mode,
        number=f"R-{paid_at:%Y%m%d}-{str(row.booking_id)[:8].upper()}",
        booking_id=row.booking_id,
        title=row.title,
        issued_at=paid_at,
        timezone=zone,
        customer=_party(row.customer_tenant_id, names),
        provider=_party(row.tenant_id, names),
        currency=currency,
        lines=lines,
        paid=row.captured_amount,
        refunded=row.refunded_amount,
        net_paid=row.captured_amount - row.refunded_amount,
        platform_fee=row.fee_amount - row.fee_refunded,
        document_url=RECEIPT_PATH.format(booking_id=row.booking_id),
    )


def receipt_html(receipt: ReceiptOut) -> str:
    """The receipt as a standalone page people can keep or print, times in the provider's zone."""
    money, issued = receipt.currency, _zone(receipt.timezone)
    rows = "".join(
        f"<tr><td>{escape(line.label)}</td><td class=n>{escape(line.formatted)}</td></tr>"
        for line in receipt.lines
    )
    banner = "<p class=test>Test payment: no real money moved.</p>" if receipt.test_mode else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Receipt {escape(receipt.number)}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}td.n{{text-align:right}}
table{{width:100%;border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em}}
.test{{background:#fde68a;padding:.5em}}</style></head><body>
{banner}<h1>Receipt {escape(receipt.number)}</h1>
<p>Issued {receipt.issued_at.astimezone(issued):%Y-%m-%d %H:%M} ({escape(issued.key)}) through
Alliance.</p>
<p><strong>Paid by</strong> {escape(receipt.customer.name)}<br>
<strong>Paid to</strong> {escape(receipt.provider.name)}</p>
<table>{rows}
<tr><th>Total paid</th><th class=n>{escape(format_money(receipt.net_paid, money))}</th></tr>
</table>
<p>Of which Alliance's platform fee, paid by the provider:
{escape(format_money(receipt.platform_fee, money))}.</p>
</body></html>
"""


def statement_lines(
    transactions: Iterable[LedgerTransaction], titles: Mapping[UUID, str]
) -> list[StatementLine]:
    """A provider's view of its captures (earned) and refunds (given back), fee included;
    `titles` names what each booking was for."""
    lines = []
    for tx in transactions:
        sign = -1 if tx.kind == "refund" else 1
        lines.append(
            StatementLine(
                at=tx.created_at,
                kind=tx.kind,
                booking_id=tx.booking_id,
                title=booked_what(titles.get(tx.booking_id, ""), tx.booking_id)
                if tx.booking_id
                else "",
                currency=tx.currency,
                gross=sign * tx.amount,
                fee=sign * tx.fee,
                net=sign * (tx.amount - tx.fee),
            )
        )
    return lines


def totals(lines: Iterable[StatementLine]) -> list[Totals]:
    by_currency: dict[str, Totals] = {}
    for line in lines:
        total = by_currency.setdefault(
            line.currency,
            Totals(currency=line.currency, earnings=0, fees=0, refunds=0, fees_refunded=0, net=0),
        )
        if line.kind == "refund":
            total.refunds -= line.gross
            total.fees_refunded -= line.fee
        else:
            total.earnings += line.gross
            total.fees += line.fee
        total.net += line.net
    return [by_currency[c] for c in sorted(by_currency)]


def statement_csv(lines: Iterable[StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "kind", "booking_id", "title", "currency", "gross", "fee", "net"])
    for line in lines:
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                line.booking_id or "",
                line.title,
                line.currency,
                decimal(line.gross, line.currency),
                decimal(line.fee, line.currency),
                decimal(line.net, line.currency),
            ]
        )
    return out.getvalue()
