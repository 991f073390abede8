"""A live simulator (uvicorn on a free port) and a real HTTP webhook receiver, per module."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from infra.stripe_sim import RunningSimulator, serve_in_thread

SECRET = "whsec_test_suite"


@dataclass
class Received:
    body: bytes
    signature: str


@dataclass
class Receiver:
    """Records every webhook POST; answers `status` (set it to 500 to force retries)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    status: int = 200

    def wait_for(
        self, match: Callable[[Received], bool], count: int = 1, timeout: float = 5.0
    ) -> list[Received]:
        """Poll until at least `count` received webhooks satisfy `match`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in list(self.requests) if match(r)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError("webhook not received in time")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(body, self.headers.get("Stripe-Signature", "")))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def simulator(receiver: Receiver) -> Iterator[RunningSimulator]:
    with serve_in_thread(webhook_url=receiver.url, webhook_secret=SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def client(simulator: RunningSimulator) -> stripe.StripeClient:
    return simulator.client()
