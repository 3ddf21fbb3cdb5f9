"""The eseal service: settings, database, HTTP API, protocol endpoints, console, CLI."""
