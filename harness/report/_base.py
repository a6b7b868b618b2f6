"""The shared shape of the file reporters: gather the (redacted) stream, write once on close."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from ._events import Event, RunRecord
from ._folder import ReportFolder

__all__ = ["FileReporter"]


class FileReporter(ABC):
    """A reporter that renders the whole run into one file of its folder on `close()`.

    Every event is redacted as it arrives (structure-aware: header values, JSON bodies) and the
    rendered text is redacted again as it is written (`ReportFolder.write_text`).

    Args:
        folder: the run's report folder; its redactor knows the run's secrets.
    """

    file_name: ClassVar[str]

    def __init__(self, folder: ReportFolder) -> None:
        self.folder = folder
        self.record = RunRecord()
        self._closed = False

    def handle(self, event: Event) -> None:
        """Take one event, redacted."""
        self.record.add(self.folder.redactor.redact(event))

    def close(self) -> None:
        """Write the file (once)."""
        if self._closed:
            return
        self._closed = True
        self.folder.write_text(self.file_name, self.render(self.record))

    @abstractmethod
    def render(self, record: RunRecord) -> str:
        """The file's whole content for the run so far."""
