"""Browser pages, one module per area."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from services.web.pages import (
    alliances,
    auth,
    billing,
    bookings,
    browse,
    dev,
    home,
    listings,
    moderation,
    profile,
    team,
)


def page_routes() -> list[ControllerRouterHandler]:
    return [
        home.home,
        home.live,
        home.ready,
        auth.signin_form,
        auth.signin,
        auth.signup_form,
        auth.signup,
        auth.signout,
        auth.switch,
        auth.business_form,
        auth.create_business,
        auth.invitation,
        auth.accept_invitation,
        auth.reset_request_form,
        auth.reset_request,
        auth.reset_form,
        auth.reset,
        team.team,
        team.invite,
        team.revoke,
        team.remove,
        profile.profile,
        profile.save_profile,
        listings.my_listings,
        listings.new_listing,
        listings.create_listing,
        listings.listing,
        listings.edit_listing,
        listings.save_listing,
        listings.add_photo,
        listings.move_listing,
        browse.search,
        browse.resource,
        browse.quote,
        browse.report,
        browse.partner,
        browse.photo,
        moderation.queue,
        moderation.decide,
        moderation.resolve,
        moderation.businesses,
        moderation.suspend_or_reinstate,
        alliances.alliances,
        alliances.create,
        alliances.alliance,
        alliances.invite,
        alliances.answer,
        bookings.book,
        bookings.bookings,
        bookings.booking,
        bookings.payment,
        bookings.message,
        bookings.review,
        bookings.decide,
        bookings.calendar,
        bookings.new_feed,
        bookings.revoke_feed,
        billing.payouts,
        billing.onboard,
        billing.plan,
        billing.change_plan,
        billing.earnings,
        billing.earnings_csv,
        billing.receipt,
    ]


def dev_routes() -> list[ControllerRouterHandler]:
    """Development helpers, never mounted in production."""
    return [home.status, dev.mailbox, dev.message]
