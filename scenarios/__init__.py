"""Locust locustfiles and benchmarks: the only package that imports locust."""
