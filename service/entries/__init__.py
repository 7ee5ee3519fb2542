"""Writing and reading journal entries through the API."""
