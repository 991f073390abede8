"""A local, stateful Stripe-compatible server that the real `stripe` SDK can talk to.

Our machines cannot reach Stripe, so tests and the offline demo point the SDK here
(`StripeClient(key, base_addresses={"api": url, ...})`). See `create_app` and `serve_in_thread`.
"""

from .app import DEFAULT_PUBLIC_URL, DEFAULT_WEBHOOK_SECRET, create_app
from .server import RunningSimulator, serve_in_thread

__all__ = [
    "DEFAULT_PUBLIC_URL",
    "DEFAULT_WEBHOOK_SECRET",
    "RunningSimulator",
    "create_app",
    "serve_in_thread",
]
