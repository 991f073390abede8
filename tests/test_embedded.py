"""Embedded PostgreSQL stops when asked and leaves nothing for interpreter exit to do."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import io, logging, sys
from pathlib import Path
from infra.embedded import start_postgres, stop_postgres

stream = io.StringIO()
logging.getLogger().handlers[:] = [logging.StreamHandler(stream)]
logging.getLogger().setLevel(logging.INFO)
server, _ = start_postgres(Path(sys.argv[1]))
stop_postgres(server)
stream.close()  # as pytest closes the capture stream a test's logging handler was given
"""


def test_a_stopped_embedded_postgres_logs_nothing_at_exit() -> None:
    """Its data outside pytest's temporary root, as in tests/test_faults.py (that root's mode
    would lock out the server's own user)."""
    root = Path(tempfile.mkdtemp(prefix="alliance-embedded-"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(root)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Logging error" not in done.stderr, done.stderr
        assert not (root / "postgres" / "data" / "postmaster.pid").exists(), "stopped"
    finally:
        shutil.rmtree(root, ignore_errors=True)
