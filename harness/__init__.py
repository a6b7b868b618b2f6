"""Contract, fuzz and load harness for Phinite's workspace trigger API."""
