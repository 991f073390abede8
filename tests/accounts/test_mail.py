"""Outgoing mail: the SMTP sender speaks real SMTP; without it, mail lands in the mailbox."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.accounts.mail import (
    MailboxMailer,
    SmtpMailer,
    booking_when,
    compose,
    declined_notice,
    mailbox,
    mailer_for,
    message_notice,
    read_message,
)


@dataclass
class Sink:
    """A minimal SMTP server on a real socket that keeps what it is sent."""

    port: int = 0
    auth: list[bytes] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250 AUTH PLAIN\r\n")
            elif verb == b"AUTH":
                self.auth.append(line.split()[-1])
                writer.write(b"235 2.7.0 accepted\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                self.messages.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    sink = Sink()
    server = await asyncio.start_server(sink.session, "127.0.0.1", 0)
    sink.port = server.sockets[0].getsockname()[1]
    async with server:
        yield sink


async def test_smtp_sender_delivers_with_credentials(sink: Sink) -> None:
    mailer = mailer_for(f"smtp://mailer:s%40cret@127.0.0.1:{sink.port}", Path("unused"))
    assert isinstance(mailer, SmtpMailer)
    await mailer.send(compose("Alliance <a@alliance.test>", "ann@example.com", "Hello", "Body"))
    assert [base64.b64decode(a) for a in sink.auth] == [b"\0mailer\0s@cret"]
    [message] = sink.messages
    assert b"Subject: Hello" in message and b"To: ann@example.com" in message


async def test_without_smtp_mail_lands_in_the_mailbox(tmp_path: Path) -> None:
    mailer = mailer_for(None, tmp_path / "mail")
    assert isinstance(mailer, MailboxMailer)
    await mailer.send(compose("a@alliance.test", "bob@example.com", "Hi Bob", "Body"))
    [path] = mailbox(tmp_path / "mail")
    assert read_message(path)["Subject"] == "Hi Bob"


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_bad_smtp_urls_fail_at_start_up(url: str) -> None:
    with pytest.raises(ValueError):
        mailer_for(url, Path("unused"))


def test_booking_times_read_in_the_business_zone_across_midnight_and_dst() -> None:
    paris = ZoneInfo("Europe/Paris")
    same_day = booking_when(
        datetime(2026, 10, 24, 16, 0, tzinfo=UTC), datetime(2026, 10, 24, 18, 30, tzinfo=UTC), paris
    )
    assert same_day == "Sat 24 Oct 2026, 18:00 to 20:30 Europe/Paris time"
    overnight = booking_when(
        datetime(2026, 10, 24, 20, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC), paris
    )
    assert overnight == "Sat 24 Oct 2026, 22:00 to Sun 25 Oct 2026, 09:00 Europe/Paris time"


def test_a_notice_keeps_newlines_out_of_its_subject() -> None:
    notice = message_notice("Ann\nSoups", "Oven", "today", "Hello", "https://x.test/b")
    message = compose("a@alliance.test", "bob@example.com", notice.subject, notice.body)
    assert message["Subject"] == "New message from Ann Soups about Oven"
    assert "> Hello" in notice.body and "https://x.test/b" in notice.body


def test_a_note_given_with_a_change_is_quoted_above_the_link() -> None:
    notice = declined_notice("Ann Soups", "Oven", "today", "https://x.test/b")
    noted = notice.quoting("Ann Soups", "Closed\nthat week")
    assert noted.subject == notice.subject
    quote = "Ann Soups wrote:\n\n> Closed\n> that week\n\nOpen the booking: https://x.test/b"
    assert quote in noted.body
