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


async def site_error(request: Request, exc) -> HTMLResponse:
    """Errors outside the API: a page for browsers, problem details for programs."""
    from app.api.errors import problem

    status = getattr(exc, "status_code", 500)
    if "text/html" not in request.headers.get("accept", ""):
        return problem(request, status, detail=getattr(exc, "detail", None) if status < 500 else None)
    return TEMPLATES.TemplateResponse(request, "error.html", {"status": status}, status_code=status)
