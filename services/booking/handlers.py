"""Events booking reacts to."""

from shared.bus import Handlers

HANDLERS: Handlers = {}
