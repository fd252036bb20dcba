"""Files (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="", tags=["files"])
