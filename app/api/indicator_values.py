"""Indicator values (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="", tags=["indicator values"])
