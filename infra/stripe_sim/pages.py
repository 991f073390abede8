"""Server-rendered HTML for the simulator's hosted pages (Checkout and Connect onboarding).

Plain HTML forms with no JavaScript, so a browser, httpx or a test can drive them alike. Every
value that comes from API input is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .cards import CARDS
from .money import format_amount

CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;
  color:#1a1f36;background:#f6f9fc}
.banner{background:#ffde92;color:#5d3a00;text-align:center;font-weight:600;font-size:13px;
  padding:6px;letter-spacing:.02em}
.wrap{max-width:920px;margin:40px auto;padding:0 20px;display:flex;gap:40px;flex-wrap:wrap}
.summary{flex:1 1 320px}
.card{flex:1 1 380px;background:#fff;border-radius:10px;padding:28px;
  box-shadow:0 2px 5px rgba(60,66,87,.08),0 1px 1px rgba(0,0,0,.06)}
.muted{color:#697386}.merchant{font-weight:600;color:#697386}
.amount{font-size:36px;font-weight:700;margin:6px 0 18px}
.line{display:flex;justify-content:space-between;border-top:1px solid #e3e8ee;padding:10px 0}
label{display:block;font-size:13px;font-weight:600;margin:14px 0 6px;color:#3c4257}
input{width:100%;padding:10px 12px;border:1px solid #d5dbe1;border-radius:6px;font-size:15px}
input:focus{outline:2px solid #635bff;border-color:#635bff}
.row{display:flex;gap:12px}.row>div{flex:1}
button{margin-top:20px;width:100%;padding:12px;border:0;border-radius:6px;background:#635bff;
  color:#fff;font-size:16px;font-weight:600;cursor:pointer}
button.secondary{background:#fff;color:#3c4257;border:1px solid #d5dbe1;margin-top:10px}
.error{background:#fde8e8;color:#a4262c;border-radius:6px;padding:10px 12px;margin-top:14px}
.ok{background:#e6f6ec;color:#1e6b3a;border-radius:6px;padding:10px 12px}
table{width:100%;border-collapse:collapse;font-size:13px;margin-top:8px}
td{padding:4px 0;border-top:1px solid #eef1f5}td.num{font-family:ui-monospace,monospace}
a{color:#635bff}
"""


def layout(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        "<div class='banner'>TEST MODE — Stripe simulator, no real money moves</div>"
        f"{body}</body></html>"
    )


def _test_cards_table() -> str:
    rows = "".join(
        f"<tr><td class='num'>{' '.join(c.number[i : i + 4] for i in range(0, len(c.number), 4))}"
        f"</td><td>{escape(c.label)}</td></tr>"
        for c in CARDS.values()
    )
    return (
        "<p class='muted' style='margin-top:24px;font-size:13px'>Test cards "
        "(any future expiry, any CVC):</p>"
        f"<table>{rows}</table>"
    )


def checkout_page(
    session: dict[str, Any],
    line_items: list[dict[str, Any]],
    product_names: list[str],
    *,
    error: str | None = None,
    card_number: str = "",
    email: str = "",
) -> str:
    currency = session["currency"]
    total = format_amount(session["amount_total"], currency)
    subscription = session["mode"] == "subscription"
    interval = ""
    if subscription:
        recurring = line_items[0]["price"].get("recurring") or {}
        interval = f" per {recurring.get('interval', 'month')}"
    lines = "".join(
        f"<div class='line'><span>{escape(name)}"
        f"{' &times; ' + str(item['quantity']) if item['quantity'] != 1 else ''}</span>"
        f"<span>{escape(format_amount(item['amount_total'], currency))}</span></div>"
        for item, name in zip(line_items, product_names, strict=True)
    )
    headline = escape(product_names[0]) if len(product_names) == 1 else "Your order"
    cancel = session.get("cancel_url")
    back = f"<p><a href='{escape(cancel)}'>&larr; Back</a></p>" if cancel else ""
    err = f"<div class='error' role='alert'>{escape(error)}</div>" if error else ""
    action = "Subscribe" if subscription else f"Pay {total}"
    summary = (
        f"<div class='summary'>{back}<div class='merchant'>Alliance</div>"
        f"<div class='muted'>{'Subscribe to ' if subscription else 'Pay for '}{headline}</div>"
        f"<div class='amount'>{escape(total)}<span class='muted' style='font-size:16px'>"
        f"{escape(interval)}</span></div>{lines}"
        f"<div class='line'><strong>Total due today</strong><strong>{escape(total)}</strong>"
        "</div></div>"
    )
    form = (
        "<div class='card'><h2 style='margin-top:0'>Pay with card</h2>"
        "<form method='post'>"
        "<label for='email'>Email</label>"
        f"<input id='email' name='email' type='email' value='{escape(email)}' "
        "autocomplete='email' placeholder='you@example.com'>"
        "<label for='card_number'>Card number</label>"
        f"<input id='card_number' name='card_number' value='{escape(card_number)}' "
        "inputmode='numeric' autocomplete='cc-number' placeholder='4242 4242 4242 4242' required>"
        "<div class='row'><div><label for='exp'>Expiry</label>"
        "<input id='exp' name='exp' placeholder='MM / YY' value='12 / 34'></div>"
        "<div><label for='cvc'>CVC</label>"
        "<input id='cvc' name='cvc' placeholder='CVC' value='123'></div></div>"
        "<label for='name'>Name on card</label>"
        "<input id='name' name='name' autocomplete='cc-name' placeholder='Jane Doe'>"
        f"{err}<button type='submit'>{escape(action)}</button></form>"
        f"{_test_cards_table()}</div>"
    )
    return layout(f"Checkout — {total}", f"<div class='wrap'>{summary}{form}</div>")


def message_page(
    title: str, message: str, *, link: str | None = None, link_text: str = "Continue"
) -> str:
    extra = f"<p><a href='{escape(link)}'>{escape(link_text)}</a></p>" if link else ""
    return layout(
        title,
        f"<div class='wrap'><div class='card'><h2 style='margin-top:0'>{escape(title)}</h2>"
        f"<p>{escape(message)}</p>{extra}</div></div>",
    )


def onboarding_page(account: dict[str, Any], return_url: str, refresh_url: str) -> str:
    done = account["details_submitted"] and account["charges_enabled"]
    status = (
        "<div class='ok'>This account is fully onboarded.</div>"
        if done
        else "<p class='muted'>Stripe would now collect business details, identity and a bank "
        "account. In test mode you can skip all of it.</p>"
    )
    due = "".join(f"<li>{escape(r)}</li>" for r in account["requirements"]["currently_due"])
    due_html = f"<p class='muted'>Currently due:</p><ul class='muted'>{due}</ul>" if due else ""
    email = account.get("email") or "—"
    body = (
        "<div class='wrap'><div class='card'>"
        "<h2 style='margin-top:0'>Complete onboarding (test mode)</h2>"
        f"<p>Connected account <code>{escape(account['id'])}</code> · {escape(email)}</p>"
        f"{status}{due_html}"
        "<form method='post'>"
        f"<input type='hidden' name='return_url' value='{escape(return_url)}'>"
        f"<input type='hidden' name='refresh_url' value='{escape(refresh_url)}'>"
        "<button type='submit' name='action' value='complete'>"
        "Complete onboarding (test mode)</button>"
        "<button class='secondary' type='submit' name='action' value='abandon'>"
        "Leave without finishing</button>"
        "</form></div></div>"
    )
    return layout("Complete onboarding (test mode)", body)
