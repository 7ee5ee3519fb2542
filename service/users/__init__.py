"""Users and their API keys (admin only)."""
