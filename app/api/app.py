"""The API application: its own FastAPI app, mounted at /api, with every router under /v1."""

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api import (
    action_month,
    activities,
    audit,
    auth,
    campaigns,
    codelists,
    documents,
    errors,
    files,
    health,
    indicator_values,
    indicators,
    plans,
    reports,
    statistics,
    succession,
    surveys,
    tokens,
    units,
    users,
    webhooks,
)

API_PREFIX = "/v1"


def create_api_app() -> FastAPI:
    """The API application (problem+json errors, OpenAPI at /api/v1/openapi.json)."""
    api = FastAPI(
        title="BĐG 2030 API",
        version="1.0",
        description="Gender Equality Communication Program to 2030: units, activities, reports, indicators.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from vendored assets: the docs work without the internet
        redoc_url=None,
    )
    errors.install(api)
    v1 = APIRouter(prefix=API_PREFIX)
    modules = (health, auth, users, tokens, audit, codelists, units, succession, plans, indicators,
               indicator_values, statistics, campaigns, activities, surveys, reports, webhooks, files,
               action_month, documents)
    for module in modules:
        v1.include_router(module.router)
    api.include_router(v1)
    _serve_docs(api)
    return api


# Third-party, minified: kept out of app/ (vendor/ at the repository root).
SWAGGER_DIR = Path(__file__).resolve().parent.parent.parent / "vendor" / "swagger-ui-5.35.0"


def _serve_docs(api: FastAPI) -> None:
    """Interactive docs at /api/v1/docs with Swagger UI served by the API itself (pinned, vendored)."""
    api.mount(f"{API_PREFIX}/docs-assets", StaticFiles(directory=SWAGGER_DIR), name="docs-assets")

    @api.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{API_PREFIX}/openapi.json", title="BĐG 2030 API",
            swagger_js_url=f"{root}{API_PREFIX}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{API_PREFIX}/docs-assets/swagger-ui.css",
            swagger_favicon_url="data:,",
        )


api_app = create_api_app()
