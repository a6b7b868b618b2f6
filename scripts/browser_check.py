"""Render a report's index.html in headless Chromium, screenshot it, and fail on any problem.

    python scripts/browser_check.py reports/latest/index.html --screenshot shot.png

It checks, in order:
1. the page asks for nothing outside itself: every `src` is a `data:` URI and every `href` an
   in-page anchor or a file next to it (no `http:`, `https:`, `//`, no `<script src>`/`<link>`);
2. Chromium renders it: the DOM it dumps still holds the verdict banner as the body's first
   element and the table of contents;
3. Chromium logs no console message (the report has no script, so any message — a JavaScript
   error, a blocked or missing resource reported to the console — is a defect), and the
   screenshot is written and not blank.
Chromium runs with a throw-away profile and everything that phones home switched off. Exit code
0 when every check holds, 1 with one line per problem otherwise, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["CHROMIUM_FLAGS", "console_messages", "external_references", "main"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
_CONSOLE = re.compile(r":CONSOLE[(:]\d+\)?\]\s*(?P<message>.*)")
_TIMEOUT_S = 90
_MIN_SCREENSHOT_BYTES = 10_000


class _References(HTMLParser):
    """Collects the tags that would fetch something, and the body's first element."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[tuple[str, str, str]] = []
        self.first_in_body: tuple[str, str | None] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "body":
            self._in_body = True
        elif self._in_body and self.first_in_body is None:
            self.first_in_body = (tag, values.get("id"))
        if tag == "link" or (tag == "script" and "src" in values):
            self.references.append((tag, "tag", values.get("href") or values.get("src") or ""))
            return
        for name in ("src", "href", "srcset", "poster", "data"):
            if values.get(name) is not None:
                self.references.append((tag, name, values[name] or ""))


def _is_local(tag: str, name: str, value: str) -> bool:
    if name == "tag":
        return False
    if name == "src":
        return value.startswith("data:")
    if name == "href" and tag == "a":
        return value.startswith("#") or bool(re.fullmatch(r"[\w.-]+", value))
    return False


def external_references(html: str) -> list[str]:
    """Every attribute or tag of the page that would load something from outside it.

    Args:
        html: the page's text.
    """
    parser = _References()
    parser.feed(html)
    return [
        f"<{tag}> {name}={value[:80]!r}"
        for tag, name, value in parser.references
        if not _is_local(tag, name, value)
    ]


def console_messages(log: str) -> list[str]:
    """The console messages in Chromium's `--enable-logging=stderr` output.

    Args:
        log: Chromium's stderr.
    """
    return [match.group("message") for match in map(_CONSOLE.search, log.splitlines()) if match]


def _first_element(html: str) -> tuple[str, str | None] | None:
    parser = _References()
    parser.feed(html)
    return parser.first_in_body


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the user's chromium, flags fixed here
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )


def check(page: Path, screenshot: Path, *, binary: str, window_size: str) -> list[str]:
    """Every problem found with `page` (an empty list when it is fine).

    Args:
        page: the index.html to check.
        screenshot: where the PNG goes.
        binary: the Chromium executable.
        window_size: `WIDTH,HEIGHT` of the window.
    """
    problems = [f"external reference {ref}" for ref in external_references(page.read_text())]
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="browser-check-") as profile:
        shot = _chromium(
            binary, Path(profile) / "shot", f"--screenshot={screenshot}",
            f"--window-size={window_size}", "--enable-logging=stderr", "--v=0", url,
        )  # fmt: skip
        dom = _chromium(binary, Path(profile) / "dom", "--dump-dom", url)
    problems += [f"console: {message}" for message in console_messages(shot.stderr)]
    if not screenshot.is_file() or screenshot.stat().st_size < _MIN_SCREENSHOT_BYTES:
        problems.append(f"no screenshot (or a blank one) at {screenshot}; chromium said: "
                        f"{shot.stderr.strip()[-500:]}")  # fmt: skip
    first = _first_element(dom.stdout)
    if first != ("header", "verdict"):
        problems.append(f"the rendered body starts with {first}, not the verdict banner")
    if 'id="toc"' not in dom.stdout:
        problems.append("the rendered page has no table of contents (nav#toc)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Check one report page in headless Chromium; return the exit code.

    Args:
        argv: the command-line arguments (default: `sys.argv[1:]`).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the report's index.html (or its folder)")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG to write")
    parser.add_argument("--window-size", default="1440,900", help="WIDTH,HEIGHT")
    parser.add_argument("--chromium", default=None, help="the Chromium executable")
    args = parser.parse_args(argv)
    page = args.page / "index.html" if args.page.is_dir() else args.page
    if not page.is_file():
        print(f"browser_check: no report page at {page}", file=sys.stderr)
        return 2
    binary = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        print("browser_check: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    screenshot = args.screenshot or page.with_name("screenshot.png")
    problems = check(page, screenshot.resolve(), binary=binary, window_size=args.window_size)
    for problem in problems:
        print(f"browser_check: {problem}", file=sys.stderr)
    if not problems:
        print(f"browser_check: {page} renders cleanly; screenshot: {screenshot}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
