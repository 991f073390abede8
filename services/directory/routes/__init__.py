"""Directory HTTP API, one controller per concern."""
