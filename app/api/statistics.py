"""Statistics (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/statistics", tags=["statistics"])
