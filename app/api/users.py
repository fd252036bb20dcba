"""Users (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/users", tags=["users"])
