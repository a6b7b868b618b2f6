"""Header grammars exactly as RFC 9110 writes them; every parser returns None, never raises.

Header values reach the harness as `str` decoded by httpx (ASCII, else UTF-8, else latin-1),
so any byte may appear; each grammar admits only what the RFC does:

- `Retry-After = HTTP-date / delay-seconds` (RFC 9110 §10.2.3), with optional whitespace
  (`OWS`, SP or HTAB) around the value (§5.5).
- `delay-seconds = 1*DIGIT`, `DIGIT` being ASCII 0-9 only (RFC 5234 B.1): "٣" or "²" is not
  a digit here, whatever `str.isdigit` says.
- `HTTP-date = IMF-fixdate / obs-date` (§5.6.7) in its three forms, case-sensitive and read as
  UTC: `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete RFC 850 form
  `Sunday, 06-Nov-94 08:49:37 GMT` (a two-digit year more than 50 years ahead of now is the
  most recent past year with those digits) and asctime `Sun Nov  6 08:49:37 1994`.
"""

from __future__ import annotations

import calendar
import re
from typing import Final

__all__ = ["parse_delay_seconds", "parse_http_date", "parse_retry_after"]

_OWS: Final = " \t"
_DIGITS: Final = re.compile(r"[0-9]+")
_DAY: Final = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY: Final = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_MONTH: Final = f"(?P<month>{'|'.join(_MONTHS)})"
_TIME: Final = "(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
_IMF_FIXDATE: Final = re.compile(
    rf"{_DAY}, (?P<day>[0-9]{{2}}) {_MONTH} (?P<year>[0-9]{{4}}) {_TIME} GMT"
)
_RFC850: Final = re.compile(
    rf"{_LONG_DAY}, (?P<day>[0-9]{{2}})-{_MONTH}-(?P<year>[0-9]{{2}}) {_TIME} GMT"
)
_ASCTIME: Final = re.compile(
    rf"{_DAY} {_MONTH} (?P<day>[0-9]{{2}}| [0-9]) {_TIME} (?P<year>[0-9]{{4}})"
)
_SECONDS_PER_YEAR: Final = 365.2425 * 86400
_MAX_DIGITS: Final = 15
"""Longer delay-seconds are read as infinity: no wait that long is ever honoured anyway."""


def parse_delay_seconds(value: str) -> float | None:
    """`delay-seconds` (RFC 9110 §10.2.3): ASCII digits, OWS around; None otherwise.

    Values of more than 15 significant digits are `inf` (a wait longer than any bound).
    """
    text = value.strip(_OWS)
    if _DIGITS.fullmatch(text) is None:
        return None
    significant = text.lstrip("0") or "0"
    return float(int(significant)) if len(significant) <= _MAX_DIGITS else float("inf")


def _year(match: re.Match[str], now_epoch: float) -> int:
    year = int(match["year"])
    if len(match["year"]) == 4:
        return year
    now_year = 1970 + int(now_epoch // _SECONDS_PER_YEAR)
    candidate = now_year - now_year % 100 + year
    return candidate - 100 if candidate > now_year + 50 else candidate


def parse_http_date(value: str, *, now_epoch: float) -> float | None:
    """An `HTTP-date` (RFC 9110 §5.6.7, any of its three forms) as epoch seconds (UTC).

    Args:
        value: the header value; OWS around it is ignored.
        now_epoch: wall-clock epoch seconds, to place an RFC 850 two-digit year.

    Returns:
        Epoch seconds, or None when the value is not an HTTP-date or names no real moment.
    """
    text = value.strip(_OWS)
    match = _IMF_FIXDATE.fullmatch(text) or _RFC850.fullmatch(text) or _ASCTIME.fullmatch(text)
    if match is None:
        return None
    year, month = _year(match, now_epoch), _MONTHS.index(match["month"]) + 1
    day, hour = int(match["day"]), int(match["hour"])
    minute, second = int(match["minute"]), int(match["second"])
    if year < 1 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    if hour > 23 or minute > 59 or second > 60:  # 60: a leap second (§5.6.7)
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (RFC 9110 §10.2.3); None if unusable.

    A date in the past means no wait (0.0). The result may be `inf`; callers bound it.

    Args:
        value: the header value, or None when the header is absent.
        now_epoch: wall-clock epoch seconds, to turn an HTTP-date into a delay.
    """
    if value is None:
        return None
    seconds = parse_delay_seconds(value)
    if seconds is not None:
        return seconds
    moment = parse_http_date(value, now_epoch=now_epoch)
    return None if moment is None else max(0.0, moment - now_epoch)
