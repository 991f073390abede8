"""`python -m infra.stripe_sim --port 8010 --webhook-url URL [--state-file PATH]`: run the
simulator standalone."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from .app import DEFAULT_WEBHOOK_SECRET, create_app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.stripe_sim",
        description="Local Stripe-compatible simulator for the real stripe SDK.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8010, help="bind port (default 8010)")
    parser.add_argument("--webhook-url", default=None, help="POST every event here, signed")
    parser.add_argument(
        "--webhook-secret",
        default=DEFAULT_WEBHOOK_SECRET,
        help=f"signing secret for --webhook-url (default {DEFAULT_WEBHOOK_SECRET})",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        help="URL browsers use to reach the simulator (default http://HOST:PORT)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep objects in this JSON file across restarts (default: in memory only)",
    )
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    public_url = args.public_url or f"http://{host}:{args.port}"
    app = create_app(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_url=public_url,
        state_file=args.state_file,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
