"""Tests of harness._display and its sinks: a target's control and bidi characters are shown as
escapes on the terminal (`Edge.echo`, `render_table`), in `index.html` and in `summary.md`.

The end-to-end case serves the other implementation (`tests/fixtures/other_api.py`) with its
wrong-method 500 whose body is replaced by a `detail` holding raw `ESC ] 0 ; title BEL`,
`ESC [ 2 J`, NUL, BEL and U+202E (not valid JSON, so it is shown as text), and runs `contract`
through the real click entry point, so the terminal sink is `click.echo` itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Final

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from harness._display import display_safe
from harness.cli import main
from harness.cli._edge import Edge
from harness.cli._output import render_table
from tests.fixtures.other_api import Breakage, Dialect, create_other_api
from tests.fixtures.other_api_server import (
    API_KEY_ENV,
    JIRA_SECRET_ENV,
    TARGET_NAME,
    serve_in_thread,
    write_targets,
)

NEUTRALISED: Final = frozenset(
    chr(code)
    for code in (
        *range(0x00, 0x20),
        0x7F,
        *range(0x80, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
        *range(0xD800, 0xE000),
    )
)
"""Every code point `display_safe` must never let through (newline and tab: single-line)."""
KEPT_ON_SEVERAL_LINES: Final = frozenset("\n\t")
HOSTILE: Final = "boom \x1b]0;title\x07 \x1b[2J \x00 \x07 \u202e end"
RAW: Final = ("\x1b", "\x07", "\x00", "\u202e")
ESCAPED: Final = ("\\x1b]0;title\\x07", "\\x1b[2J", "\\x00", "\\u202e")

_any_text = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(sorted(NEUTRALISED)))
)
_plain_text = st.text(st.characters(exclude_characters="".join(NEUTRALISED)))


@given(_any_text)
def test_no_neutralised_code_point_survives(text: str) -> None:
    """On one line nothing of the set is left; on several lines only newline and tab are."""
    assert not NEUTRALISED & set(display_safe(text))
    assert not (NEUTRALISED - KEPT_ON_SEVERAL_LINES) & set(display_safe(text, multiline=True))


@given(_plain_text)
def test_plain_text_is_returned_unchanged(text: str) -> None:
    """Text with no control, bidi control, separator or surrogate is shown exactly."""
    assert display_safe(text) == text
    assert display_safe(text + "\n\t" + text, multiline=True) == text + "\n\t" + text


@given(_any_text)
def test_display_safe_is_idempotent(text: str) -> None:
    """Escaping twice is escaping once: sinks may layer without double escapes."""
    once = display_safe(text)
    assert display_safe(once) == once


def test_each_code_point_has_its_own_escape_in_python_notation() -> None:
    """Each neutralised code point becomes `\\xNN` or `\\uNNNN` that decodes back to it."""
    shown = {char: display_safe(char) for char in NEUTRALISED}
    assert len(set(shown.values())) == len(NEUTRALISED)
    for char, escape in shown.items():
        assert escape.encode("ascii").decode("unicode_escape") == char
    assert display_safe(HOSTILE) == "boom \\x1b]0;title\\x07 \\x1b[2J \\x00 \\x07 \\u202e end"
    assert display_safe("a\r\nb\x85c\u2028d") == "a\\x0d\\x0ab\\x85c\\u2028d"
    assert display_safe("a\r\nb", multiline=True) == "a\\x0d\nb"


def test_edge_echo_and_warn_show_escapes_and_keep_lines() -> None:
    """`Edge.echo` and `Edge.warn` write through `display_safe`, newlines kept."""
    lines: list[str] = []
    edge = Edge(echo=lines.append, warn=lines.append)
    edge.echo(f"FAILED x: {HOSTILE}\nnext line")
    edge.warn(HOSTILE)
    assert lines == [f"FAILED x: {display_safe(HOSTILE)}\nnext line", display_safe(HOSTILE)]


def test_table_cells_are_one_line_and_show_escapes() -> None:
    """A cell's newline is an escape, not a new row; controls never reach the table."""
    table = render_table(f"t{HOSTILE}", ["c"], [[f"a\nb {HOSTILE}"]])
    assert not set(RAW) & set(table)
    assert "a\\x0ab" in table
    for escaped in ESCAPED:
        assert escaped in table


Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _hostile_500(app: Any) -> Any:
    """`app` with the body of every 500 replaced by a `detail` holding `HOSTILE` raw."""
    body = ('{"detail": "' + HOSTILE + '"}').encode()

    async def hostile(scope: Any, receive: Any, send: Send) -> None:
        failing = False

        async def patched(message: MutableMapping[str, Any]) -> None:
            nonlocal failing
            if message["type"] == "http.response.start" and message["status"] == 500:
                failing = True
                headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**message, "headers": headers})
            elif message["type"] == "http.response.body" and failing:
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await app(scope, receive, patched)

    return hostile


@pytest.mark.socket
def test_contract_shows_a_hostile_detail_escaped_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terminal, index.html and summary.md hold none of the raw characters; the terminal and
    index.html show their escapes."""
    dialect = Dialect(api_key="other-KEY-display-1", jira_secret="other-JIRA-display-1")
    app = _hostile_500(create_other_api(dialect, Breakage.WRONG_METHOD_500))
    monkeypatch.chdir(tmp_path)
    environ = {API_KEY_ENV: dialect.api_key, JIRA_SECRET_ENV: dialect.jira_secret}
    with serve_in_thread(app) as server_url:
        write_targets(tmp_path, server_url, dialect)
        result = CliRunner().invoke(
            main,
            ["contract", "--target", TARGET_NAME, "--select", "methods.wrong.E1"],
            env=environ,
            catch_exceptions=False,
        )
    assert result.exit_code == 1, result.output
    folder = tmp_path / "reports" / "latest"
    results = (folder / "results.json").read_text(encoding="utf-8")
    assert json.dumps(HOSTILE, ensure_ascii=False)[1:-1] in results  # the exact text is kept
    html = (folder / "index.html").read_text(encoding="utf-8")
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    for shown in (result.output, html, summary):
        assert not set(RAW) & set(shown)
    for shown in (result.output, html):
        for escaped in ESCAPED:
            assert escaped in shown
    assert "FAILED methods.wrong.E1: " in result.output
