"""The caller's account: who am I, key rotation, and deleting everything (``/v1/me``)."""
