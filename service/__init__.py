"""Read side of trustlens: settings, the API, the CLI, retrieval and the answerers."""
