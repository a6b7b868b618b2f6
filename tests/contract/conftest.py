"""The contract suite's fixtures (`suite_context`, `trigger_session`, ...) come from the
`trigger_harness` pytest plugin; select the target with `--target NAME [--targets FILE]`."""
