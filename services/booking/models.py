"""Booking persistence; its tables come with the booking issue, event plumbing is here."""

from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "booking"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
