"""The web front's own knobs: the secret that signs CSRF tokens and whether cookies need TLS.

They live here rather than in shared.config because no other process reads them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings

SECRET_FILE = "web-secret"  # noqa: S105 - a file name, not a secret


def _dev_secret(keys_dir: Path) -> str:
    """Development keeps one generated secret under the data dir, so restarts keep sessions'
    CSRF tokens valid; production must pass ALLIANCE_WEB_SECRET (every replica the same)."""
    path = keys_dir / SECRET_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(secrets.token_urlsafe(48))
        partial.chmod(0o600)
        partial.replace(path)
    return path.read_text().strip()


@dataclass(frozen=True)
class WebConfig:
    secret: str
    secure_cookies: bool
    """Secure cookies whenever the public origin is https (and always in production)."""
    dev_tools: bool
    """The dev mailbox viewer and the service status page, never in production."""
    session_days: int

    @classmethod
    def load(cls, settings: Settings, env: Mapping[str, str] = os.environ) -> WebConfig:
        production = settings.env == "production"
        secret = env.get("ALLIANCE_WEB_SECRET", "")
        if not secret:
            if production:
                raise RuntimeError("ALLIANCE_WEB_SECRET must be set in production")
            secret = _dev_secret(settings.keys_dir)
        return cls(
            secret=secret,
            secure_cookies=production or settings.service_url("web").startswith("https://"),
            dev_tools=not production,
            session_days=int(env.get("ALLIANCE_WEB_SESSION_DAYS", "30")),
        )
