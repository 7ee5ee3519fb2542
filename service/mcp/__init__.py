"""trustlens for AI assistants: an MCP server over the same insight services as the API."""
