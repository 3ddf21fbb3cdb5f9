"""The web console: server-rendered pages (Jinja2), sessions and CSRF."""
