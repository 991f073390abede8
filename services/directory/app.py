"""The directory service: partner profiles, resources, alliances and search."""

from __future__ import annotations

from litestar import Litestar

from services.directory.models import outbox
from services.directory.routes import DirectoryController
from shared.app import create_service_app
from shared.config import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    return create_service_app(
        "directory",
        [DirectoryController],
        outbox=outbox,
        description="Partner profiles, resources to borrow, rent or subcontract, and alliances.",
        settings=settings,
    )
