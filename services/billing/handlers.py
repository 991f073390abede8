"""Events billing reacts to."""

from shared.bus import Handlers

HANDLERS: Handlers = {}
