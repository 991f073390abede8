"""Development only: the mailbox that accounts writes to when no SMTP server is set."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from services.accounts.mail import mailbox as delivered
from services.accounts.mail import read_message
from services.web.pages.common import CtxDep


def _summary(path: Path) -> dict[str, str]:
    message = read_message(path)
    return {
        "name": path.name,
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "date": str(message["Date"]),
    }


@get("/dev/mail")
async def mailbox(ctx: CtxDep, state: State) -> Template:
    folder: Path = state.mail_dir
    newest = list(reversed(delivered(folder)))[:200]
    return await ctx.page("dev/mailbox.html", messages=[_summary(p) for p in newest])


@get("/dev/mail/{name:str}")
async def message(ctx: CtxDep, state: State, name: FromPath[str]) -> Template:
    folder: Path = state.mail_dir
    path = folder / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        raise NotFoundException()
    found = read_message(path)
    body = found.get_body(("plain",))
    return await ctx.page(
        "dev/message.html",
        message=_summary(path),
        body=body.get_content() if body is not None else "",
    )
