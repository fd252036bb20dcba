"""The one API client of the web frontend: in-process (ASGITransport) or a base URL when deployed apart."""

import httpx

from app.config import get_settings


def make_api_client() -> httpx.AsyncClient:
    """An AsyncClient whose relative paths (`/v1/...`) reach the API."""
    base_url = get_settings().api_base_url
    if base_url:
        return httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=30)
    from app.api.app import api_app

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app, root_path="/api"), base_url="http://api.internal/api",
                             timeout=30)
