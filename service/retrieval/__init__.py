"""Hybrid retrieval over one person's indexed chunks."""
