"""Asking questions of one's own journal."""
