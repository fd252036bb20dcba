"""Tokens (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/tokens", tags=["tokens"])
