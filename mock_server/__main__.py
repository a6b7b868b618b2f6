"""`python -m mock_server`: the same as `trigger-mock`."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main(prog_name="trigger-mock")
