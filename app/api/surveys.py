"""Surveys (in progress)."""

from fastapi import APIRouter

router = APIRouter(prefix="/surveys", tags=["surveys"])
