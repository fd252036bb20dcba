"""Webhooks (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
