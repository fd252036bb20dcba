"""The web frontend: an API client that renders Jinja2 templates (HTMX)."""
