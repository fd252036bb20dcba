"""Audit (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/audit", tags=["audit"])
