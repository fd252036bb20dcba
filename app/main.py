"""The root application: the API at /api, the web frontend at /."""

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.app import api_app
from app.services.webhooks import background_worker as webhook_worker
from app.web import pages
from app.web.client import make_api_client


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with make_api_client() as client, webhook_worker():
        app.state.api = client
        yield


def create_app() -> FastAPI:
    """The site: API mounted at /api, static files, web pages."""
    app = FastAPI(title="BĐG 2030", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/api", api_app)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    app.include_router(pages.router)
    app.add_exception_handler(StarletteHTTPException, pages.site_error)
    return app


app = create_app()
