"""The directory service: partner profiles, resources, alliances, moderation and search."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.directory.models import outbox
from services.directory.routes.alliances import AlliancesController
from services.directory.routes.moderation import ModerationController
from services.directory.routes.partners import PartnersController
from services.directory.routes.photos import PhotosController
from services.directory.routes.reports import ReportsController
from services.directory.routes.resources import ResourcesController
from services.directory.routes.search import SearchController
from services.directory.storage import PhotoStore, photo_store
from shared.app import create_service_app
from shared.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    cfg = settings or get_settings()
    store = photo_store(cfg)

    def provide_store() -> PhotoStore:
        return store

    return create_service_app(
        "directory",
        [
            PartnersController,
            ResourcesController,
            ModerationController,
            AlliancesController,
            SearchController,
            PhotosController,
            ReportsController,
        ],
        outbox=outbox,
        description="Partner profiles, resources to borrow, rent or subcontract, and alliances.",
        settings=cfg,
        dependencies={"store": Provide(provide_store, sync_to_thread=False)},
    )
