"""Tests of harness.report._folder: folder naming, uniqueness, `latest`, redacted writes."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness._redact import Redactor
from harness.report import ReportFolder, folder_name, read_latest, sanitise_name

from .conftest import START


def test_folder_name_uses_utc_time_command_and_target() -> None:
    """The name is the UTC start time, the command and the target."""
    local = datetime(2026, 6, 10, 2, 10, 5, tzinfo=timezone(timedelta(hours=2)))
    assert folder_name("contract", "dev", local) == "20260610T001005Z-contract-dev"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("size-polling", "size-polling"),
        ("my target/../../etc", "my-target-..-..-etc"),
        ("ünïcode name", "n-code-name"),
        ("...", "unnamed"),
        ("", "unnamed"),
        ("a" * 80, "a" * 40),
    ],
)
def test_names_are_sanitised_for_the_file_system(raw: str, safe: str) -> None:
    """Only letters, digits, dot, underscore and dash remain; empty names get a placeholder."""
    assert sanitise_name(raw) == safe


def test_sanitised_name_never_leaves_the_root(tmp_path: Path) -> None:
    """A target name with path separators still makes a folder directly under the root."""
    folder = ReportFolder.create(tmp_path, "run", "../../escape", START)
    assert folder.path.parent == tmp_path


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path: Path) -> None:
    """A second run started the same second gets a `-2` suffix instead of sharing a folder."""
    first = ReportFolder.create(tmp_path, "contract", "mock", START)
    second = ReportFolder.create(tmp_path, "contract", "mock", START)
    assert first.path != second.path
    assert second.path.name == f"{first.path.name}-2"
    assert first.path.is_dir()
    assert second.path.is_dir()


def test_latest_points_at_the_newest_written_folder(tmp_path: Path) -> None:
    """`latest` is a relative symlink moved to each run's folder once it is written."""
    ReportFolder.create(tmp_path, "contract", "mock", START).point_latest()
    newest = ReportFolder.create(tmp_path, "fuzz", "mock", START + timedelta(seconds=1))
    newest.point_latest()
    latest = tmp_path / "latest"
    assert latest.is_symlink()
    assert os.readlink(latest) == newest.path.name
    assert read_latest(tmp_path) == newest.path.resolve()


def test_latest_falls_back_to_a_text_file_without_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where symlinks fail, `latest` is a text file holding the newest folder's path."""

    def refuse(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError("symlinks not permitted")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    ReportFolder.create(tmp_path, "contract", "mock", START).point_latest()
    newest = ReportFolder.create(tmp_path, "contract", "mock", START)
    newest.point_latest()
    latest = tmp_path / "latest"
    assert latest.is_file()
    assert not latest.is_symlink()
    assert read_latest(tmp_path) == newest.path.resolve()


def test_a_folder_being_written_is_not_latest(tmp_path: Path) -> None:
    """Creating a run's folder leaves `latest` on the last written one (issue 14: a run
    still running, or whose report failed to write, never becomes `latest`)."""
    written = ReportFolder.create(tmp_path, "contract", "mock", START)
    written.point_latest()
    ReportFolder.create(tmp_path, "load", "mock", START + timedelta(seconds=1))
    assert read_latest(tmp_path) == written.path.resolve()


def test_a_real_latest_directory_is_left_alone(tmp_path: Path) -> None:
    """A directory the user named `latest` is neither replaced nor written into."""
    (tmp_path / "latest").mkdir()
    ReportFolder.create(tmp_path, "run", "mock", START).point_latest()
    assert (tmp_path / "latest").is_dir()
    assert not (tmp_path / "latest").is_symlink()
    assert not any((tmp_path / "latest").iterdir())


def test_read_latest_without_runs_is_none(tmp_path: Path) -> None:
    """An empty report root has no latest run."""
    assert read_latest(tmp_path) is None


def test_writes_are_redacted_but_embedded_images_are_untouched(tmp_path: Path) -> None:
    """Text written through the folder loses its secrets; base64 image data stays intact."""
    folder = ReportFolder.create(tmp_path, "run", "mock", START, redactor=Redactor(["AAAA"]))
    image = "data:image/png;base64,AAAAiVBORw0KGgoAAAA="
    path = folder.write_text("page.html", f"<p>AAAA</p><img src='{image}'>")
    assert path.read_text(encoding="utf-8") == f"<p>[REDACTED]</p><img src='{image}'>"
    assert folder.write_bytes("raw.bin", b"xAAAAx").read_bytes() == b"x[REDACTED]x"


@pytest.mark.parametrize("name", ["../evil", "sub/file.txt", "", ".."])
def test_file_names_must_stay_in_the_folder(tmp_path: Path, name: str) -> None:
    """A file name with a directory part is refused."""
    folder = ReportFolder.create(tmp_path, "run", "mock", START)
    with pytest.raises(ValueError, match="plain file name"):
        folder.write_text(name, "x")


def test_naive_start_time_is_taken_as_utc() -> None:
    """A datetime without a zone is read as UTC rather than local time."""
    naive = datetime(2026, 1, 2, 3, 4, 5)
    aware = naive.replace(tzinfo=UTC)
    assert folder_name("run", "mock", naive) == folder_name("run", "mock", aware)
