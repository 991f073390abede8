"""`alliance up` with nothing configured: embedded servers, one origin, Ctrl-C, reuse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from infra.runner import HTTP_PROCESSES
from tests.support import free_port, signup_body

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def start_up(data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "APP_DATABASE_URL")
    }
    env.update({f"ALLIANCE_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()})
    env["ALLIANCE_STRIPE_URL"] = f"http://127.0.0.1:{free_port()}"
    return subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "up", "--data-dir", str(data_dir), "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(front: str, proc: subprocess.Popen[bytes], timeout: float = 150) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, "alliance up exited early"
        try:
            if httpx.get(f"{front}/health/ready", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the stack did not become ready")


def interrupt(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=40)


def wait_partner(front: str, slug: str) -> None:
    for _ in range(100):
        if httpx.get(f"{front}/api/directory/partners/{slug}").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("partner never appeared")


def test_up_with_embedded_servers_keeps_data_across_restarts(tmp_path: Path) -> None:
    ports = {name: free_port() for name in HTTP_PROCESSES}
    front = f"http://127.0.0.1:{ports['web']}"
    proc = start_up(tmp_path, ports)
    try:
        wait_ready(front, proc)
        answer = httpx.post(f"{front}/api/accounts/signup", json=signup_body("embedded-co"))
        assert answer.status_code == 201, answer.text
        wait_partner(front, "embedded-co")
        owner = {"authorization": f"Bearer {answer.json()['access_token']}"}
        payouts = f"{front}/api/billing/payout-account"
        started = httpx.post(f"{payouts}/onboarding", headers=owner, timeout=30)
        assert started.status_code == 200, started.text
    finally:
        assert interrupt(proc) == 0
    assert (tmp_path / "postgres" / "data").is_dir()
    assert not (tmp_path / "redis" / "redis.sock").exists()

    proc = start_up(tmp_path, ports)
    try:
        wait_ready(front, proc)
        again = httpx.post(f"{front}/api/accounts/signup", json=signup_body("embedded-co"))
        assert again.status_code == 409, "the first run's data is still there"
        assert httpx.get(f"{front}/api/directory/partners/embedded-co").status_code == 200
        # The Stripe simulator restarted too, and still knows the account billing stored.
        status = httpx.get(payouts, headers=owner, timeout=30)
        assert status.status_code == 200, status.text
        assert status.json()["stripe_account_id"] == started.json()["stripe_account_id"]
    finally:
        assert interrupt(proc) == 0
