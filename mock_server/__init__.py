"""Stateful mock of Phinite's workspace trigger API."""
