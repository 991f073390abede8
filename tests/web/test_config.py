"""What the front turns on where: dev tools and plain-http cookies only outside production."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.web.app import create_app
from services.web.config import WebConfig
from shared.config import DEFAULT_PORTS, Settings


def settings(data_dir: Path, env: str, web: str = "http://127.0.0.1:8000") -> Settings:
    urls = {name: f"http://127.0.0.1:{port}" for name, port in DEFAULT_PORTS.items()}
    return Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/unused",
        app_database_url="postgresql+asyncpg://alliance_app@127.0.0.1:5432/unused",
        redis_url="redis://127.0.0.1:6379/15",
        data_dir=data_dir,
        service_urls=urls | {"web": web},
        env=env,
    )


def test_development_keeps_one_generated_secret(tmp_path: Path) -> None:
    first = WebConfig.load(settings(tmp_path, "development"), env={})
    again = WebConfig.load(settings(tmp_path, "development"), env={})
    assert first.secret == again.secret and len(first.secret) >= 48
    assert first.dev_tools and not first.secure_cookies
    https = WebConfig.load(settings(tmp_path, "development", "https://alliance.example"), env={})
    assert https.secure_cookies


def test_production_needs_its_secret_and_mounts_no_dev_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    production = settings(tmp_path, "production")
    with pytest.raises(RuntimeError, match="ALLIANCE_WEB_SECRET"):
        WebConfig.load(production, env={})
    monkeypatch.setenv("ALLIANCE_WEB_SECRET", "x" * 48)
    config = WebConfig.load(production)
    assert config.secure_cookies and not config.dev_tools
    paths = {route.path for route in create_app(production).routes}
    assert "/signin" in paths and "/api/{service:str}/{path:path}" in paths
    assert not any(path.startswith("/dev/") for path in paths)


def test_development_mounts_the_dev_tools(tmp_path: Path) -> None:
    """Built here, in the test process, so pytest's filterwarnings sees every page handler's
    declarations (the stack's processes build theirs out of its sight)."""
    paths = {route.path for route in create_app(settings(tmp_path, "development")).routes}
    assert "/signin" in paths and "/api/{service:str}/{path:path}" in paths
    assert any(path.startswith("/dev/") for path in paths)
