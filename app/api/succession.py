"""Units (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/succession-events", tags=["units"])
