"""Display safety: the one step that makes a target's text harmless to show.

A target's answers reach a terminal, `index.html` and `summary.md`. Control characters in them
can drive a terminal (`ESC ] 0 ; title BEL` sets its title, `ESC [ 2 J` clears the screen, a
carriage return overwrites the line), and bidi controls reorder what a reader sees (U+202E
shows `exe.txt` for `txt.exe`; the "Trojan Source" attack, CVE-2021-42574). `display_safe`
writes every such code point as a visible escape in Python's notation, `\\x1b` or `\\u202e`, so
the reader sees which code point the target sent; every other character is kept as is.

Neutralised (Unicode categories Cc, Zl, Zp, Cs and the bidi formatting characters of UAX #9):
- C0 controls U+0000–U+001F (newline and tab only kept when `multiline` is set), DEL U+007F
  and C1 controls U+0080–U+009F (NEL U+0085 among them);
- bidi controls: ALM U+061C, LRM U+200E, RLM U+200F, embeddings and overrides U+202A–U+202E,
  isolates U+2066–U+2069;
- line and paragraph separators U+2028, U+2029 (read as line breaks by `str.splitlines`);
- lone surrogates U+D800–U+DFFF (no terminal can encode them; printing one raises
  `UnicodeEncodeError`).

Backslashes are kept as they are, so text that already spells an escape (a Python `repr`, a
JSON string) reads the same: `\\x1b` on screen is an ESC the target sent or those four
characters; `results.json` keeps the exact text.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["display_safe"]

_ALWAYS: Final = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029\ud800-\udfff"
)
_UNSAFE_LINE: Final = re.compile(f"[{_ALWAYS}\t\n]")
_UNSAFE_TEXT: Final = re.compile(f"[{_ALWAYS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display_safe(text: str, *, multiline: bool = False) -> str:
    """The text with every control, bidi control, separator and lone surrogate made visible.

    Each such code point becomes `\\xNN` (below U+0100) or `\\uNNNN`: ESC is `\\x1b`, NUL
    `\\x00`, CR `\\x0d`, U+202E `\\u202e`. Idempotent; text without those code points is
    returned unchanged.

    Args:
        text: any text, e.g. a target's answer.
        multiline: keep newline (U+000A) and tab (U+0009), for sinks that show several lines
            (a terminal block, an HTML `<pre>`); by default they are escaped too, so text
            meant for one line cannot fake a new one.
    """
    pattern = _UNSAFE_TEXT if multiline else _UNSAFE_LINE
    return pattern.sub(_escape, text)
