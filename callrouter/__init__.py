"""callrouter composition root: settings, CLI, wiring and the HTTP API."""
