"""Domain errors → HTTP answers, in one table. Every error body is `tagtrail.errors.error_document`:
`{"ok": false, "error": "...", "errors": [...], "status": N}` (plus `issues` for a refused link).
A 503 (a StoreError: the store could not commit, nothing was written) carries `Retry-After`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tagtrail.errors import (
    AuthError,
    Conflict,
    EventTooLarge,
    InvalidInput,
    InvalidLink,
    NotFound,
    PolicyError,
    StoreError,
    TagtrailError,
    TooManyAttempts,
    document_of,
    error_document,
)

STATUS: list[tuple[type[TagtrailError], int]] = [
    (AuthError, 401),
    (TooManyAttempts, 429),
    (EventTooLarge, 413),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidLink, 422),
    (InvalidInput, 422),
    (PolicyError, 422),
    (StoreError, 503),
    (TagtrailError, 400),
]


# Seconds a client waits before it repeats a request the store could not serve (503).
RETRY_AFTER = "1"


def error_body(status: int, message: str, errors: list[str], **extra: Any) -> dict[str, Any]:
    """`error_document` with the HTTP status and the given `errors`."""
    return error_document(message, status=status, errors=errors, **extra)


def error_response(status: int, message: str, *, hint: str | None = None) -> JSONResponse:
    """A JSON error answer: `error_document` of `message` (and `hint`) with its status."""
    return JSONResponse(error_document(message, hint=hint, status=status), status_code=status)


def domain_error(exc: TagtrailError) -> JSONResponse:
    """The answer to a domain error (its status from `STATUS`)."""
    status = next(code for kind, code in STATUS if isinstance(exc, kind))
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    elif status == 503:  # the store refused or lost the write: nothing was written
        headers = {"Retry-After": RETRY_AFTER}
    return JSONResponse(document_of(exc, status=status), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(TagtrailError)
    async def _domain(_request: Request, exc: TagtrailError) -> JSONResponse:
        return domain_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        ]
        return JSONResponse(error_body(422, "the request is not valid", errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail), [str(exc.detail)]),
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def _bug(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(
            error_body(500, "internal error", ["internal error; the server log has the details"]),
            status_code=500,
        )
