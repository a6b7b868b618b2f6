"""The contract suite's fixtures (`suite_context`, `trigger_session`, ...) come from the
`trigger_harness` pytest plugin. Select the target with `--target NAME [--targets FILE]`: this
repository's short forms of the plugin's `--trigger-target` / `--trigger-targets`, declared once
in `tests/conftest.py` (so `pytest tests/contract tests/fuzz --target dev` declares them once).
On a production target every case is skipped before the first request (the plugin's guard)."""
