"""`alliance up`: embedded servers when needed, migrations, every process, one origin, Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import httpx

from infra.embedded import ensure_servers
from shared.config import (
    DEFAULT_PORTS,
    SERVICES,
    STRIPE_SIMULATOR_KEY,
    STRIPE_SIMULATOR_SECRET,
    STRIPE_SIMULATOR_URL,
    Settings,
    load_settings,
)

log = logging.getLogger("alliance.runner")
READY_TIMEOUT = 120.0
HTTP_PROCESSES = ("web", *SERVICES)


WEBHOOK_PATH = "/api/billing/webhooks/stripe"


def stack_env(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """Environment for child processes: the same servers and each other's addresses."""
    env = {**base, "ALLIANCE_DATA_DIR": str(settings.data_dir)}
    for name in HTTP_PROCESSES:
        env[f"ALLIANCE_{name.upper()}_URL"] = settings.service_url(name)
    env["STRIPE_API_KEY"] = settings.stripe_api_key
    env["STRIPE_WEBHOOK_SECRET"] = settings.stripe_webhook_secret
    if settings.stripe_api_base:
        env["STRIPE_API_BASE"] = settings.stripe_api_base
    return env


def ready_urls(settings: Settings) -> dict[str, str]:
    """What `wait_ready` waits for: every HTTP process, and the Stripe simulator when used."""
    urls = {name: settings.service_url(name) for name in HTTP_PROCESSES}
    if settings.stripe_simulated and settings.stripe_api_base:
        urls["stripe"] = settings.stripe_api_base
    return urls


class Processes:
    """The stack's child processes; also used by the end-to-end tests."""

    def __init__(self, env: Mapping[str, str], log_dir: Path | None = None) -> None:
        """Children log to this terminal, or to `<log_dir>/<name>.log` when given."""
        self.env = dict(env)
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, *args: str) -> None:
        """A one-off step (migrate, seed) in its own process, so the supervisor stays small."""
        subprocess.run([sys.executable, "-m", "infra.cli", *args], env=self.env, check=True)

    def spawn(self, name: str, *args: str, module: str = "infra.cli") -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", module, *args]
        if self.log_dir is None:
            proc = subprocess.Popen(command, env=self.env)
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with (self.log_dir / f"{name}.log").open("ab") as log_file:
                proc = subprocess.Popen(
                    command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
                )
        self.procs[name] = proc
        return proc

    def start_stack(self, threads: int = 4) -> None:
        for name in SERVICES:
            self.spawn(name, "serve", name)
        self.spawn("worker", "worker", "--threads", str(threads))
        self.spawn("web", "serve", "web")
        self.spawn_stripe_simulator()

    def spawn_stripe_simulator(self) -> None:
        """Without a real Stripe key, payments go to the simulator, which posts its signed
        webhooks to billing through the web front and keeps its objects under the data
        directory, as billing keeps their ids in the database."""
        if self.env.get("STRIPE_API_KEY", STRIPE_SIMULATOR_KEY) != STRIPE_SIMULATOR_KEY:
            return
        url = httpx.URL(self.env.get("STRIPE_API_BASE", STRIPE_SIMULATOR_URL))
        web = self.env.get("ALLIANCE_WEB_URL", f"http://127.0.0.1:{DEFAULT_PORTS['web']}")
        self.spawn(
            "stripe",
            "--host",
            url.host,
            "--port",
            str(url.port),
            "--webhook-url",
            web + WEBHOOK_PATH,
            "--webhook-secret",
            self.env.get("STRIPE_WEBHOOK_SECRET", STRIPE_SIMULATOR_SECRET),
            "--state-file",
            str(Path(self.env.get("ALLIANCE_DATA_DIR", ".data")) / "stripe-sim.json"),
            "--log-level",
            "warning",
            module="infra.stripe_sim",
        )

    def wait_ready(self, urls: Mapping[str, str], timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(urls)
        with httpx.Client(timeout=2) as client:
            while pending:
                for name, url in list(pending.items()):
                    if self.procs[name].poll() is not None:
                        raise RuntimeError(f"{name} exited during start-up")
                    path = "/_sim/health" if name == "stripe" else "/health/ready"
                    try:
                        if client.get(f"{url}{path}").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not ready after {timeout}s: {', '.join(pending)}")
                time.sleep(0.1)

    def dead(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self, names: list[str] | None = None, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` (Dramatiq can ignore SIGTERM when orphaned)."""
        chosen = {n: p for n, p in self.procs.items() if names is None or n in names}
        for proc in chosen.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for name, proc in chosen.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            del self.procs[name]


def up(data_dir: Path, *, demo: bool, threads: int) -> int:
    """Run the whole marketplace in the foreground until Ctrl-C or a process dies."""
    started = time.monotonic()
    os.environ["ALLIANCE_DATA_DIR"] = str(data_dir)
    servers = ensure_servers(data_dir)
    processes: Processes | None = None
    stopping = False

    def on_signal(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        settings = load_settings()
        processes = Processes(stack_env(settings, os.environ))
        processes.run("migrate")
        processes.start_stack(threads)
        processes.wait_ready(ready_urls(settings))
        if demo:
            processes.run("seed", "--demo")
        print(
            f"\nAlliance is up at {settings.service_url('web')} in "
            f"{time.monotonic() - started:.1f}s (embedded: {', '.join(servers.started) or 'none'})."
            " Ctrl-C stops it.\n"
            + (
                f"Test payments: Stripe simulator at {settings.stripe_api_base}.\n"
                if settings.stripe_simulated
                else ""
            ),
            flush=True,
        )
        while not stopping:
            if dead := processes.dead():
                log.error("process exited: %s; stopping the stack", ", ".join(dead))
                return 1
            time.sleep(0.3)
        return 0
    finally:
        if processes is not None:
            processes.stop()
        servers.stop()


def service_port(name: str) -> int:
    url = os.environ.get(f"ALLIANCE_{name.upper()}_URL")
    if url and (port := httpx.URL(url).port):
        return port
    return DEFAULT_PORTS[name]
