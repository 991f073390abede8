"""Outgoing mail and its texts: SMTP when ALLIANCE_SMTP_URL is set, else a mailbox folder of .eml
files.

A message is never silently dropped: without SMTP it lands in `<data dir>/mail`, where
`alliance mail` lists and prints it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import NamedTuple, Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

log = logging.getLogger("alliance.mail")


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())  # names and titles never break the header
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="alliance.localhost")
    message.set_content(body)
    return message


class MailboxMailer:
    """Development and tests: one .eml file per message, named so `ls` sorts them by time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.tmp"
        partial.write_bytes(message.as_bytes(policy=policy.SMTP))
        os.replace(partial, self.directory / name)  # readers never see half a message

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)


class SmtpMailer:
    """smtp://user:password@host:port (add ?starttls=1 to upgrade) or smtps://... for TLS."""

    def __init__(self, url: str) -> None:
        self.parts = urlsplit(url)
        if self.parts.scheme not in ("smtp", "smtps") or not self.parts.hostname:
            raise ValueError("ALLIANCE_SMTP_URL must look like smtp://user:pass@host:port")
        self.starttls = parse_qs(self.parts.query).get("starttls", ["0"])[0] in ("1", "true")

    def _send(self, message: EmailMessage) -> None:
        host, tls = self.parts.hostname or "", self.parts.scheme == "smtps"
        port = self.parts.port or (465 if tls else 25)
        context = ssl.create_default_context()
        client = (
            smtplib.SMTP_SSL(host, port, context=context, timeout=10)
            if tls
            else smtplib.SMTP(host, port, timeout=10)
        )
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.parts.username:
                client.login(unquote(self.parts.username), unquote(self.parts.password or ""))
            client.send_message(message)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)


def mailer_for(smtp_url: str | None, mail_dir: Path) -> Mailer:
    if smtp_url:
        return SmtpMailer(smtp_url)
    log.info("no ALLIANCE_SMTP_URL: mail goes to %s (read it with `alliance mail`)", mail_dir)
    return MailboxMailer(mail_dir)


def mailbox(directory: Path) -> list[Path]:
    """Delivered messages, oldest first."""
    return sorted(directory.glob("*.eml")) if directory.is_dir() else []


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message: EmailMessage = BytesParser(policy=policy.default).parse(handle)
    return message


def invitation_mail(
    sender: str, to: str, business: str, inviter: str, link: str, days: int
) -> EmailMessage:
    body = (
        f"{inviter} invites you to join {business} on Alliance.\n\n"
        f"Accept the invitation: {link}\n\n"
        f"The link works once and expires in {days} days. If you did not expect it, ignore it.\n"
    )
    return compose(sender, to, f"Join {business} on Alliance", body)


def reset_mail(sender: str, to: str, link: str, minutes: int) -> EmailMessage:
    body = (
        "Someone asked to reset the password of your Alliance account.\n\n"
        f"Choose a new password: {link}\n\n"
        f"The link works once and expires in {minutes} minutes. If it was not you, ignore "
        "this message: your password stays as it is.\n"
    )
    return compose(sender, to, "Reset your Alliance password", body)


def booking_when(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
    """A booking's window in the reader's business time zone, e.g.
    `Fri 4 Dec 2026, 18:00 to 20:00 Europe/Paris time`; the end's date is named when it differs."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    until = (
        f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a} {end.day} {end:%b %Y, %H:%M}"
    )
    return f"{start:%a} {start.day} {start:%b %Y, %H:%M} to {until} {zone.key} time"


class BookingNotice(NamedTuple):
    """What a business is told about one of its bookings, the same for each person mailed."""

    subject: str
    news: str
    link: str

    @property
    def body(self) -> str:
        return (
            f"{self.news}\n\nOpen the booking: {self.link}\n\n"
            "You receive this as an owner or admin of your business on Alliance.\n"
        )

    def quoting(self, other: str, excerpt: str) -> BookingNotice:
        """The notice with the note the other business gave with the change, so that note
        needs no new-message mail of its own."""
        return self._replace(news=f"{self.news}\n\n{other} wrote:\n\n{_quoted(excerpt)}")


def _quoted(excerpt: str) -> str:
    return "\n".join(f"> {line}" for line in excerpt.splitlines() or [""])


def message_notice(other: str, title: str, when: str, excerpt: str, link: str) -> BookingNotice:
    return BookingNotice(
        f"New message from {other} about {title}",
        f'{other} wrote about the booking of "{title}" ({when}):\n\n{_quoted(excerpt)}',
        link,
    )


def reminder_notice(other: str, title: str, when: str, role: str, link: str) -> BookingNotice:
    lines = (
        f'"{title}", booked by {other}, starts soon: {when}.'
        if role == "provider"
        else f'Your booking of "{title}" with {other} starts soon: {when}.'
    )
    return BookingNotice(f"Reminder: {title} starts soon", lines, link)


def request_notice(other: str, title: str, when: str, link: str) -> BookingNotice:
    return BookingNotice(
        f"New booking request for {title}",
        f'{other} asks to book "{title}" ({when}). Accept or decline it before it expires.',
        link,
    )


def confirmed_notice(other: str, title: str, when: str, role: str, link: str) -> BookingNotice:
    party = f"by {other}" if role == "provider" else f"with {other}"
    return BookingNotice(
        f"Booking confirmed: {title}",
        f'The booking of "{title}" {party} is confirmed: {when}.',
        link,
    )


def declined_notice(other: str, title: str, when: str, link: str) -> BookingNotice:
    return BookingNotice(
        f"Booking request declined: {title}",
        f'{other} declined your request to book "{title}" ({when}).',
        link,
    )


def cancelled_notice(other: str, title: str, when: str, by_other: bool, link: str) -> BookingNotice:
    """`by_other`: the other business cancelled; else the platform did (its payment failed)."""
    lines = (
        f'{other} cancelled the booking of "{title}" ({when}).'
        if by_other
        else f'The booking of "{title}" with {other} ({when}) was cancelled: its payment did not '
        "go through."
    )
    return BookingNotice(
        f"Booking cancelled: {title}", f"{lines} Any refund follows its policy.", link
    )


def expired_notice(other: str, title: str, when: str, unpaid: bool, link: str) -> BookingNotice:
    reason = "was not paid in time" if unpaid else f"had no answer from {other} in time"
    return BookingNotice(
        f"Booking request expired: {title}",
        f'Your request to book "{title}" ({when}) {reason}; nothing was charged.',
        link,
    )
