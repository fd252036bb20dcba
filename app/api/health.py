"""Liveness and database reachability."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db import get_engine

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> JSONResponse:
    """Service status, with whether the database answers."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        database = f"unreachable: {type(exc).__name__}"
    ok = database == "ok"
    return JSONResponse({"status": "ok" if ok else "degraded", "database": database}, status_code=200 if ok else 503)
