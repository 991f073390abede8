"""Events accounts reacts to: none yet (it is the source of tenant events)."""

from shared.bus import Handlers

HANDLERS: Handlers = {}
