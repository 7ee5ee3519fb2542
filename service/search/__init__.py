"""Ranked chunks of the caller's own journal (``POST /v1/search``)."""
