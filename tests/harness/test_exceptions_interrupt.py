"""`Interrupted` and `Terminated` are stops, not errors: like `KeyboardInterrupt`, no
`except Exception` (nor `except HarnessError`) swallows them (issue 14: SIGTERM during the
contract suite was an erroring case and the suite went on)."""

from __future__ import annotations

import pytest

from harness import HarnessError, Interrupted, Terminated


@pytest.mark.parametrize(("stop", "code"), [(Interrupted, 130), (Terminated, 143)])
def test_a_stop_is_no_exception_and_keeps_its_exit_code(stop: type[Interrupted], code: int) -> None:
    """Both derive from BaseException only, and carry the CLI's exit code."""
    assert not issubclass(stop, Exception)
    assert not issubclass(stop, HarnessError)
    assert issubclass(stop, BaseException)
    assert stop.exit_code == code


def test_except_exception_lets_terminated_through() -> None:
    """A broad handler (a retry loop, a case runner) does not catch SIGTERM's `Terminated`."""

    def broad() -> None:
        try:
            raise Terminated("terminated (SIGTERM)")
        except Exception:
            pytest.fail("except Exception swallowed Terminated")

    with pytest.raises(Terminated):
        broad()
