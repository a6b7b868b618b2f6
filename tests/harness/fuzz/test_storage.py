"""Hypothesis's storage during `fuzz` holds no secret: nothing under the working directory holds
the key after a run, finished or stopped by SIGTERM (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis.database import InMemoryExampleDatabase

from harness.fuzz import SecretFreeDatabase

_KEY = b"demo-key"
_BOUND_S = 240.0


def _fuzz(cwd: Path, tmpdir: Path, *args: str) -> subprocess.Popen[bytes]:
    """`trigger-harness fuzz --target mock` in `cwd`, its temporary files in `tmpdir`."""
    command = [
        sys.executable, "-c", "from harness.cli import main; main()",
        "fuzz", "--target", "mock", *args,
    ]  # fmt: skip
    environ = {**os.environ, "TMPDIR": str(tmpdir)}
    environ.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    return subprocess.Popen(
        command, cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _holding_the_key(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and _KEY in path.read_bytes()]


def _homes(tmpdir: Path) -> list[Path]:
    return list(tmpdir.glob("trigger-harness-hypothesis-*"))


def _dirs(tmp_path: Path) -> tuple[Path, Path]:
    cwd, tmpdir = tmp_path / "work", tmp_path / "tmp"
    cwd.mkdir()
    tmpdir.mkdir()
    return cwd, tmpdir


def test_a_finished_fuzz_run_leaves_no_key_under_the_working_directory(tmp_path: Path) -> None:
    """After `fuzz` ends, no file under the cwd holds the key and hypothesis's home is gone."""
    cwd, tmpdir = _dirs(tmp_path)
    process = _fuzz(cwd, tmpdir, "--profile", "ci", "--max-examples", "3")
    _, stderr = process.communicate(timeout=_BOUND_S)
    assert process.returncode == 0, stderr.decode()
    assert (cwd / "reports").is_dir()
    assert _holding_the_key(cwd) == []
    assert _homes(tmpdir) == []


def test_a_fuzz_run_stopped_by_sigterm_leaves_no_key_behind(tmp_path: Path) -> None:
    """SIGTERM once hypothesis's constants cache holds the key: exit 143, no file under the cwd
    holds the key, and the temporary home holding the cache is removed."""
    cwd, tmpdir = _dirs(tmp_path)
    process = _fuzz(cwd, tmpdir, "--profile", "dev")
    deadline = time.monotonic() + _BOUND_S
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(_holding_the_key(home) for home in _homes(tmpdir)):
                break
            time.sleep(0.2)
        assert process.poll() is None, "fuzz ended before hypothesis cached the key"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=_BOUND_S)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == 143, stderr.decode()
    assert _holding_the_key(cwd) == []
    assert _homes(tmpdir) == []


def test_the_example_database_never_stores_a_secret() -> None:
    """Entries holding a secret's bytes are neither saved nor fetched; others pass through."""
    inner = InMemoryExampleDatabase()
    database = SecretFreeDatabase(inner, ["demo-key", None, ""])
    database.save(b"k", b"\x00demo-key\x01")
    database.save(b"k", b"plain")
    inner.save(b"k", b"written by another: demo-key")
    assert list(database.fetch(b"k")) == [b"plain"]
    database.move(b"k", b"other", b"written by another: demo-key")
    assert list(inner.fetch(b"other")) == []
    assert b"written by another: demo-key" not in list(inner.fetch(b"k"))
