"""The API application: its own FastAPI app, mounted at /api, with every router under /v1."""

from fastapi import APIRouter, FastAPI

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
        docs_url=f"{API_PREFIX}/docs",
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
    return api


api_app = create_api_app()
