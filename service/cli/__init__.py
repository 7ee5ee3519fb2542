"""The ``trustlens`` command line: ``main`` builds the app; ``common`` holds what every
command group shares (options, the container, printing safety and errors)."""
