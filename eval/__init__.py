"""Evaluation: datasets, metrics and benchmarks that every quality claim is checked on."""
