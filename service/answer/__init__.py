"""Answerers: turn retrieved evidence into a grounded answer, or abstain."""
