"""The safety gate: crisis language gets a safety response with resources, not an insight.

``schemas`` holds the response models (light to import); ``gate`` the gate itself."""
