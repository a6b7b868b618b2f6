"""One folder per run under the report root, and `latest` pointing at the newest written one.

    reports/
    ├── 20260610T001000Z-contract-mock/      results.json, junit.xml, summary.md, index.html
    ├── 20260610T001000Z-contract-mock-2/    a second run started the same second
    └── latest -> 20260610T001000Z-contract-mock-2

Where symlinks cannot be made, `latest` is a small text file holding the folder's path.
`latest` moves only once a run's report is written (`point_latest`, after every reporter closed),
so it never names a folder still being written or one whose writing failed (issue 14).
Every file goes through `ReportFolder.write_text` / `write_bytes`, which redact on the way out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness._redact import Redactor

__all__ = ["LATEST", "ReportFolder", "folder_name", "read_latest", "sanitise_name"]

LATEST = "latest"
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")
_MAX_NAME = 40
_DATA_URI = re.compile(r"(data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+)")
_MAX_ATTEMPTS = 1000


def sanitise_name(name: str) -> str:
    """A file-system-safe version of a command or target name (letters, digits, `._-`).

    Args:
        name: any user-chosen name.
    """
    safe = _UNSAFE.sub("-", name).strip("-.")[:_MAX_NAME].strip("-.")
    return safe or "unnamed"


def folder_name(command: str, target_name: str, now: datetime) -> str:
    """`<UTC yyyymmddTHHMMSSZ>-<command>-<target>` for a run started at `now`.

    Args:
        command: the CLI command (`contract`, `run`, ...).
        target_name: the target's name.
        now: when the run started; a naive datetime is taken as UTC.
    """
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{sanitise_name(command)}-{sanitise_name(target_name)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFolder:
    """A run's report folder; files written through it are redacted.

    Build it with `ReportFolder.create`; `redactor` defaults to one that knows no secret
    values (credential headers are still blanked).
    """

    path: Path
    redactor: Redactor = field(default_factory=Redactor)

    @classmethod
    def create(
        cls,
        root: Path,
        command: str,
        target_name: str,
        now: datetime,
        *,
        redactor: Redactor | None = None,
    ) -> ReportFolder:
        """Make a new, unique folder for a run under `root` (`latest` is left as it is).

        Args:
            root: the report directory (`--report-dir`); created if missing.
            command: the CLI command, part of the folder name.
            target_name: the target's name, part of the folder name.
            now: when the run started (UTC is used in the name).
            redactor: removes the run's secrets from every file written.
        """
        root.mkdir(parents=True, exist_ok=True)
        base = folder_name(command, target_name, now)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            path = root / (base if attempt == 1 else f"{base}-{attempt}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return cls(path=path, redactor=redactor or Redactor())
        raise FileExistsError(f"{_MAX_ATTEMPTS} report folders named {base!r} exist in {root}")

    def point_latest(self) -> None:
        """Point `latest` in the report root at this folder, atomically; call it once the
        report is written (complete or interrupted), never when its writing failed.

        Raises:
            OSError: the root cannot be written.
        """
        _point_latest(self.path.parent, self.path)

    def write_text(self, name: str, text: str) -> Path:
        """Write a redacted text file into the folder and return its path.

        Args:
            name: the file name (no directories).
            text: the content; every secret in it is replaced before writing.
        """
        target = self._child(name)
        target.write_text(
            self._redact_text(text), encoding="utf-8", errors="backslashreplace", newline="\n"
        )
        return target

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write a redacted binary file into the folder and return its path.

        Args:
            name: the file name (no directories).
            data: the content; every UTF-8 spelling of a secret in it is replaced.
        """
        target = self._child(name)
        target.write_bytes(self.redactor.redact_bytes(data))
        return target

    def _redact_text(self, text: str) -> str:
        """Redact everything but embedded base64 images, which are not text."""
        pieces = _DATA_URI.split(text)
        return "".join(
            piece if index % 2 else self.redactor.redact_text(piece)
            for index, piece in enumerate(pieces)
        )

    def _child(self, name: str) -> Path:
        if not name or Path(name).name != name or name in {".", ".."}:
            raise ValueError(f"Invalid report file name={name!r}: must be a plain file name")
        return self.path / name


def _point_latest(root: Path, path: Path) -> None:
    """Replace `root/latest` atomically: a relative symlink, or a text file naming the path."""
    latest = root / LATEST
    if latest.is_dir() and not latest.is_symlink():
        return  # a real directory named `latest` belongs to the user: leave it alone
    temporary = root / f".{LATEST}.{os.getpid()}.{path.name}"
    try:
        temporary.symlink_to(path.name, target_is_directory=True)
    except (OSError, NotImplementedError):
        temporary.write_text(f"{path.resolve()}\n", encoding="utf-8")
    os.replace(temporary, latest)


def read_latest(root: Path) -> Path | None:
    """The newest run folder under `root` according to `latest`, None when there is none.

    Args:
        root: the report directory.
    """
    latest = root / LATEST
    if latest.is_symlink():
        return (root / os.readlink(latest)).resolve()
    if latest.is_file():
        return Path(latest.read_text(encoding="utf-8").strip())
    return None
