"""Run the simulator as a real HTTP server on a background thread (tests, demo, dev tools).

The socket is bound before the app is built so `public_url` (used in hosted-page URLs) carries
the real port even when the OS picks a free one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import stripe
import uvicorn
from litestar import Litestar
from stripe._base_address import BaseAddresses

from .app import DEFAULT_WEBHOOK_SECRET, create_app
from .sim import Simulator


@dataclass
class RunningSimulator:
    """A live simulator: its base `url` (give it to the SDK) and in-process state."""

    url: str
    app: Litestar
    webhook_secret: str

    @property
    def sim(self) -> Simulator:
        sim = self.app.state.sim
        assert isinstance(sim, Simulator)
        return sim

    @property
    def base_addresses(self) -> BaseAddresses:
        """For `stripe.StripeClient(key, base_addresses=...)`."""
        return {"api": self.url, "connect": self.url, "files": self.url}

    def client(self, api_key: str = "sk_test_alliance") -> stripe.StripeClient:
        """A real SDK client pointed at this simulator."""
        return stripe.StripeClient(api_key, base_addresses=self.base_addresses)


@contextlib.contextmanager
def serve_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    webhook_url: str | None = None,
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
    startup_timeout: float = 10.0,
    state_file: Path | None = None,
) -> Iterator[RunningSimulator]:
    """Start uvicorn on `host:port` (0 = any free port) and stop it on exit (which saves the
    state to `state_file`, when given)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    url = f"http://{host}:{bound_port}"
    app = create_app(
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        public_url=url,
        state_file=state_file,
    )
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stripe-sim", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("stripe simulator failed to start")
        time.sleep(0.01)
    try:
        yield RunningSimulator(url=url, app=app, webhook_secret=webhook_secret)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
