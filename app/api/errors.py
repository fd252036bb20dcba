"""RFC 9457 problem details for every error the API returns."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://bdg2030.vn/problems/"

_TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    406: "Not acceptable", 409: "Conflict", 412: "Precondition failed", 413: "Content too large",
    415: "Unsupported media type", 422: "Unprocessable content", 428: "Precondition required",
    429: "Too many requests", 503: "Service unavailable",
    500: "Internal server error",
}


class AppError(Exception):
    """An error with its HTTP status, rendered as problem details."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, *, title: str | None = None, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.title = title or _TITLES.get(self.status, "Error")
        self.errors = errors
        self.headers = headers
        self.extra = extra


class NotFound(AppError):
    status, slug = 404, "not-found"


class Unauthorized(AppError):
    status, slug = 401, "unauthorized"


class Forbidden(AppError):
    status, slug = 403, "forbidden"


class Conflict(AppError):
    status, slug = 409, "conflict"


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


class TooManyRequests(AppError):
    status, slug = 429, "too-many-requests"


class Invalid(AppError):
    """Input that parses but breaks a domain rule; `errors` names the fields."""

    status, slug = 422, "validation-error"


def field_error(loc: list[str | int], message: str, type_: str = "value_error") -> dict:
    """One entry of a problem's `errors` list."""
    return {"loc": list(loc), "field": ".".join(str(p) for p in loc), "message": message, "type": type_}


def refuse_nulls(data: Any, *names: str) -> None:
    """422 naming each field a PATCH body sends as null although it cannot be empty."""
    sent = data.model_fields_set
    errors = [field_error(["body", name], f"{name} cannot be empty.") for name in names
              if name in sent and getattr(data, name) is None]
    if errors:
        raise Invalid("The change is not valid.", errors=errors)


def _validation_entry(error: dict) -> dict:
    """One validation error as a field error; a body that is not JSON is named as the body, with the position."""
    if error["type"] == "json_invalid":
        position = error["loc"][-1] if len(error["loc"]) > 1 else None
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        where = f" at character {position}" if isinstance(position, int) else ""
        return field_error(["body"], f"The body is not valid JSON{where}: {reason}.", "json_invalid")
    return field_error(list(error["loc"]), error["msg"], error["type"])


def problem(request: Request, status: int, *, title: str | None = None, detail: str | None = None,
            slug: str | None = None, errors: list[dict] | None = None, headers: dict | None = None,
            **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError):
        return problem(request, exc.status, title=exc.title, detail=exc.detail, slug=exc.slug,
                       errors=exc.errors, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [_validation_entry(e) for e in exc.errors()]
        return problem(request, 422, detail="The request has invalid fields.", slug="validation-error",
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(request, exc.status_code, detail=detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc.orig)
        return problem(request, 409, slug="conflict",
                       detail="The change conflicts with existing data (a duplicate or a missing reference).")

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        # Another request changed or deleted the record between our read and our write.
        return problem(request, 412, slug="precondition-failed",
                       detail="The record has changed since you read it. Reload it and apply your change again.")

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError):
        return problem(request, 422, slug="validation-error", detail="A number in the request is out of range.")

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError):
        log.info("data error: %s", exc.orig)
        return problem(request, 422, slug="validation-error",
                       detail="A value in the request does not fit the data (a number out of range or a bad value).")

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text:
            # Contention, not a fault: the client may simply try again.
            log.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
            return problem(request, 503, slug="busy", detail="The database is busy. Try again in a moment.",
                           headers={"Retry-After": "1"})
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem(request, 500, detail="An unexpected error occurred. It has been logged.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, 500, detail="An unexpected error occurred. It has been logged.")
