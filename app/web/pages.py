"""Web pages. Every figure comes from the API through the shared client."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
router = APIRouter()


@router.get("/", response_class=HTMLResponse, name="home")
async def home(request: Request):
    """The home page: what the system is, and whether the service is healthy."""
    client = request.app.state.api
    health = (await client.get("/v1/health")).json()
    return TEMPLATES.TemplateResponse(request, "home.html", {"health": health})
