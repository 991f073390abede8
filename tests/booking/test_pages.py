"""The booking page over plain HTTP (no browser needed): the thread's form posts with its CSRF
token and mails the other business; the answer form's note is sent only when given and kept when
refused; the thread names the other business; a refund billing made shows on the page."""

from __future__ import annotations

from typing import get_args

import httpx

from services.booking.schemas import Note
from services.web.pages.browse import NOTE_LIMIT
from shared.bus import Bus
from shared.config import Settings
from tests.billing.helpers import authorised, decide
from tests.booking.helpers import (
    Business,
    booked,
    business,
    days_ahead,
    listed,
    status_becomes,
    window,
)
from tests.booking.test_notifications import name
from tests.booking.test_refunds import refunded
from tests.support import eventually, expect, mail_text, mail_to, unique
from tests.web.test_security import csrf, signed_in


async def test_thread_form_posts_with_its_token_only_and_mails_the_provider(
    front: httpx.AsyncClient, bus: Bus, stack: Settings
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Proofing room")
    resource = await listed(front, bus, provider, customer, title=title)
    booking = await booked(front, customer, resource, **window(days_ahead(4), 10, 12))
    page_path = f"/bookings/{booking['id']}"
    async with signed_in(front, customer.email) as browser:
        page = await browser.get(page_path)
        assert page.status_code == 200 and "No messages yet." in page.text
        form = f"{page_path}/messages"
        forged = await browser.post(form, data={"_csrf_token": "forged", "body": "Forged"})
        assert forged.status_code == 403
        sent = await browser.post(
            form, data={"_csrf_token": csrf(page), "body": "Is the back door open at 7?"}
        )
        assert sent.status_code == 303 and sent.headers["location"].endswith("#thread")
        thread = (await browser.get(page_path)).text
    assert "Is the back door open at 7?" in thread and "Forged" not in thread
    mail = await mail_to(stack.mail_dir, provider.email, f"about {title}")
    assert f"{stack.service_url('web')}{page_path}#thread" in mail_text(mail)


def test_the_note_field_keeps_to_the_apis_limit() -> None:
    assert get_args(Note)[1].max_length == NOTE_LIMIT


async def test_answer_form_sends_a_note_only_when_given_and_keeps_a_refused_one(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Blast chiller")
    resource = await listed(front, bus, provider, customer, title=title, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(4), 10, 12))
    page_path = f"/bookings/{booking['id']}"
    async with signed_in(front, provider.email) as browser:
        page = await browser.get(page_path)
        assert "Note to the customer" in page.text and f'maxlength="{NOTE_LIMIT}"' in page.text
        forged = {"_csrf_token": "forged", "message": "Forged"}
        assert (await browser.post(f"{page_path}/decline", data=forged)).status_code == 403
        too_long = "x" * (NOTE_LIMIT + 1)
        answer = {"_csrf_token": csrf(page), "message": too_long}
        refused = await browser.post(f"{page_path}/decline", data=answer)
        assert refused.status_code == 400, refused.text
        assert f">{too_long}</textarea>" in refused.text, "the note is kept to be shortened"
        assert 'id="f-message-error"' in refused.text
        blank = await browser.post(f"{page_path}/accept", data={**answer, "message": "  \n "})
        assert blank.status_code == 303
        late = await browser.post(f"{page_path}/decline", data={**answer, "message": "No."})
        assert late.status_code == 409 and 'class="form-error"' in late.text, late.text
    await status_becomes(front, customer, booking["id"], "confirmed")
    thread = f"/api/booking/bookings/{booking['id']}/messages"
    assert expect(await front.get(thread, headers=customer.headers), 200) == [], "no note joined"


async def test_booking_page_shows_what_was_refunded(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer, booking = await authorised(front, bus, days=3)
    await decide(front, provider, booking, "accept")
    await status_becomes(front, customer, booking["id"], "confirmed")
    await decide(front, customer, booking, "cancel")
    await refunded(front, customer, booking["id"], 2500)
    async with signed_in(front, customer.email) as browser:
        page = (await browser.get(f"/bookings/{booking['id']}")).text
    assert '<dd id="refunded">€25.00</dd>' in page


async def in_directory(front: httpx.AsyncClient, *parties: Business) -> None:
    """Directory hears of new businesses by event; the page takes their names from it."""
    ids = {"tenant_id": [str(p.tenant_id) for p in parties]}

    async def named() -> bool:
        found = expect(await front.get("/api/directory/partners", params=ids), 200)
        return len(found) == len(parties)

    await eventually(named)


async def test_thread_names_the_other_business_to_each_side(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, title=unique("Walk-in fridge"))
    note = {"message": "Can we come at 9?"}
    booking = await booked(front, customer, resource, **window(days_ahead(4), 10, 12), **note)
    thread = f"/api/booking/bookings/{booking['id']}/messages"
    reply = {"body": "Yes, ring twice."}
    expect(await front.post(thread, json=reply, headers=provider.headers), 201)
    await in_directory(front, provider, customer)
    for viewer, other in ((customer, provider), (provider, customer)):
        async with signed_in(front, viewer.email) as browser:
            page = (await browser.get(f"/bookings/{booking['id']}")).text
        assert page.count(f"{name(other)} · ") == 1 and page.count("You · ") == 1, page
        assert "The other business" not in page
        slug = other.email.split("@")[0]
        assert f'<a href="/partners/{slug}" id="other-business">{name(other)}</a>' in page


async def test_a_blank_message_is_refused_and_line_breaks_are_kept(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, title=unique("Dough mixer"))
    booking = await booked(front, customer, resource, **window(days_ahead(4), 10, 12))
    thread = f"/api/booking/bookings/{booking['id']}/messages"
    blank = await front.post(thread, json={"body": " \n\t "}, headers=customer.headers)
    problem = expect(blank, 422)
    assert problem["type"].endswith("/invalid-booking") and problem["field"] == "body"
    assert expect(await front.get(thread, headers=customer.headers), 200) == []

    page_path = f"/bookings/{booking['id']}"
    async with signed_in(front, customer.email) as browser:
        page = await browser.get(page_path)
        refused = await browser.post(
            f"{page_path}/messages", data={"_csrf_token": csrf(page), "body": "   \n  "}
        )
        assert refused.status_code == 422 and 'id="f-body-error"' in refused.text
        assert "Write a message before sending it." in refused.text
        body = "\nDoor code: <b>1234</b>\n\nRing twice.\n"
        sent = await browser.post(
            f"{page_path}/messages", data={"_csrf_token": csrf(page), "body": body}
        )
        assert sent.status_code == 303
        shown = (await browser.get(page_path)).text
    assert '<p class="body">Door code: &lt;b&gt;1234&lt;/b&gt;\n\nRing twice.</p>' in shown
    assert expect(await front.get(thread, headers=provider.headers), 200)[0]["body"] == (
        "Door code: <b>1234</b>\n\nRing twice."
    )
