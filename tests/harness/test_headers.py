"""Header grammars as RFC 9110 writes them: `Retry-After` and HTTP-date, never raising."""

from __future__ import annotations

import calendar
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness._headers import parse_delay_seconds, parse_http_date, parse_retry_after

NOW = float(calendar.timegm((2027, 1, 15, 8, 0, 0, 0, 0, 0)))  # Fri, 15 Jan 2027 08:00:00 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 3\t", 3.0),  # OWS around the value
        ("007", 7.0),
        ("0", 0.0),
        ("99999999999", 99999999999.0),
        ("9" * 5000, math.inf),  # a valid, absurdly long wait: bounded by the caller
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),  # IMF-fixdate
        ("Friday, 15-Jan-27 08:00:30 GMT", 30.0),  # obsolete RFC 850 form
        ("Fri Jan 15 08:00:30 2027", 30.0),  # asctime, read as UTC
        ("Sat Jan  2 08:00:30 2027", 0.0),  # asctime with a one-digit day; in the past
        ("Fri, 15 Jan 2027 07:00:00 GMT", 0.0),  # a past date means no wait
    ],
)
def test_usable_retry_after_values(value: str, expected: float) -> None:
    """delay-seconds and all three HTTP-date forms give the wait in seconds (RFC 9110 §10.2.3)."""
    assert parse_retry_after(value, now_epoch=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        "\u00b2",  # the byte 0xB2 as httpx decodes it (latin-1): "²", isdigit() but no DIGIT
        "\u0663",  # ARABIC-INDIC DIGIT THREE: not an ASCII DIGIT (RFC 5234)
        "\uff13",  # FULLWIDTH DIGIT THREE
        "",
        "   ",
        "-1",
        "+3",
        "1.5",
        "1e3",
        "3 s",
        "soon",
        "fri, 15 Jan 2027 08:00:30 GMT",  # HTTP-date is case-sensitive
        "Fri, 15 Jan 2027 08:00:30 UTC",  # only GMT
        "Fri, 31 Feb 2027 08:00:30 GMT",  # no such day
        "Fri, 15 Jan 2027 24:00:00 GMT",
        "Fri, 15 Jan 0000 08:00:30 GMT",
        "Fri, 15 Jan 2027 08:00:30 GMT\r\nX: y",
        "Fri Jan 15 08:00:30 27",
    ],
)
def test_unusable_retry_after_values_are_none(value: str) -> None:
    """Anything outside the grammar is unusable (None), never a guess and never an error."""
    assert parse_retry_after(value, now_epoch=NOW) is None


def test_absent_header_is_none() -> None:
    """No header, no wait."""
    assert parse_retry_after(None, now_epoch=NOW) is None


def test_rfc850_two_digit_year_more_than_50_years_ahead_is_in_the_past() -> None:
    """RFC 9110 §5.6.7: `94` read in 2027 is 1994, `30` is 2030."""
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now_epoch=NOW) == 784111777.0
    expected_2030 = calendar.timegm((2030, 11, 6, 8, 49, 37, 0, 0, 0))
    assert parse_http_date("Wednesday, 06-Nov-30 08:49:37 GMT", now_epoch=NOW) == expected_2030


def test_delay_seconds_admits_only_ascii_digits() -> None:
    """`delay-seconds = 1*DIGIT`: Unicode digits that `str.isdigit` accepts are refused."""
    assert parse_delay_seconds("42") == 42.0
    assert all(parse_delay_seconds(d) is None for d in ("\u00b2", "\u0663", "\u09e9", "\u2463"))


@given(st.text())
def test_no_text_makes_the_parser_raise(value: str) -> None:
    """Any decoded header text gives a number >= 0 or None, never an exception."""
    result = parse_retry_after(value, now_epoch=NOW)
    assert result is None or result >= 0


@given(st.binary(max_size=40))
def test_no_latin1_bytes_make_the_parser_raise(raw: bytes) -> None:
    """Header bytes as httpx decodes them when not UTF-8 (latin-1) never make it raise."""
    result = parse_retry_after(raw.decode("latin-1"), now_epoch=NOW)
    assert result is None or result >= 0
