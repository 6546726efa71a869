"""FastAPI app over one ``Predictor``: ``POST /predict`` (JSON text), ``POST /predict/file`` (upload), ``GET /health``
and ``GET /`` (a single offline page that highlights each case unit in the bulletin).

Every response carries the decoded bulletin ``text`` the offsets point into: for an uploaded .html, .docx or .pdf
that is the extracted text, not the uploaded bytes, so a client can highlight ``text[start:end]`` directly.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data.errors import InputError
from data.labels import DEFAULT_LANG
from data.reader import Bulletin, read_bulletin_bytes
from models.predictor import Predictor

logger = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("static") / "index.html"
UPLOAD_HELP = "A bulletin file: .txt (UTF-8, GBK, GB18030 or Big5), .html, .docx or .pdf (text layer)."
DEFAULT_MAX_BYTES = 2_000_000  # a bulletin is a few KB; a 2 MB request is already a mistake or an abuse


class PredictRequest(BaseModel):
    """A bulletin's text to segment and label."""

    text: str = Field(description="The bulletin's text (UTF-8). A 'SOURCE: … ---' header is skipped.")
    source: str = Field(default="", description="A name for the bulletin, echoed in each case's 'source'.")


class Cue(BaseModel):
    """A cue word found in the text; offsets point into the bulletin text."""

    label: str
    cue: str
    start: int
    end: int


class Case(BaseModel):
    """One labelled case unit (``Predictor.record``); ``text == bulletin_text[start:end]``."""

    source: str
    case: int = Field(description="1-based index of the case unit in the bulletin.")
    start: int
    end: int
    text: str
    offense: str
    offense_name: str = Field(description="The offense's name for people (Chinese where the label set has one).")
    offense_score: float
    penalties: list[str]
    penalty_names: list[str] = Field(description="The penalties' names, in the order of 'penalties'.")
    penalty_scores: dict[str, float]
    primary_penalty: str
    fine_amounts: list[int]
    party: str
    party_name: str = Field(description="The party's name for people.")
    party_score: float
    needs_review: bool = Field(
        False,
        description="The model is unsure of this unit (offense margin or a penalty "
        "score in the uncertain band tuned on validation): a person should check it.",
    )
    statutes: list[str]
    cues: list[Cue] = Field(default_factory=list)


class PredictResponse(BaseModel):
    """The case units of one bulletin, with the text their offsets point into."""

    source: str
    text: str = Field(description="The decoded bulletin text; every start/end offset points into it.")
    n_cases: int
    cases: list[Case]


class Health(BaseModel):
    status: str
    model: str


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 for a request that fails validation, without echoing the input back.

    Why: the echo made the 422 itself fail with a 500 for input JSON can carry but a response cannot (a lone
    surrogate such as ``{"\\ud800": 1}``, or ``Infinity``); the client has its input anyway.
    """
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _require_unicode(value: str, field: str) -> None:
    """Refuse a lone surrogate: JSON can carry ``"\\ud800"``, but no bulletin text or UTF-8 answer can.

    Raises:
        HTTPException: 422 naming the field and where the surrogate is.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise HTTPException(
            422,
            f"'{field}' holds an unpaired surrogate (U+{ord(value[err.start]):04X}) at character {err.start}; "
            "send valid Unicode text",
        ) from err


class _BodyLimit:
    """ASGI middleware answering 413 to a request body over ``max_bytes``, before the app parses any of it.

    Why buffer here rather than check ``Content-Length`` only: a chunked upload has no length header, and
    multipart parsing would otherwise spool an arbitrarily large file to disk first.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body, only a disconnect can come
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (
            f"request body larger than the {self.max_bytes:,}-byte limit; "
            "split the bulletin, or label large files with 'penalty predict'"
        )
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


def create_app(predictor: Predictor, max_bytes: int = DEFAULT_MAX_BYTES) -> FastAPI:
    """The web service for one loaded predictor.

    Args:
        predictor: any ``Predictor`` (rules, fine-tuned, ONNX); loaded once, shared by all requests.
        max_bytes: largest request body accepted; larger ones get 413.

    Returns:
        The FastAPI application (run it with uvicorn, or test it with ``fastapi.testclient.TestClient``).
    """
    app = FastAPI(
        title="penalty",
        description="Find and label the case units of Chinese cyber-security enforcement bulletins.",
        version="0.1.0",
    )
    app.add_middleware(_BodyLimit, max_bytes=max_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    # Fast tokenizers fail with "Already borrowed" when two threads set truncation at once, and inference is
    # CPU-bound anyway: one request labels at a time, the others wait in FastAPI's thread pool.
    lock = threading.Lock()

    def label(bulletin: Bulletin) -> PredictResponse:
        with lock:
            predictions = predictor.predict_bulletins([bulletin])[0]
        cases = [Case.model_validate(predictor.record(p, DEFAULT_LANG)) for p in predictions]
        return PredictResponse(source=bulletin.source, text=bulletin.text, n_cases=len(cases), cases=cases)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness check naming the loaded model."""
        return Health(status="ok", model=predictor.name)

    @app.post("/predict", response_model=PredictResponse, responses={413: {"description": "body too large"}})
    def predict(request: PredictRequest) -> PredictResponse:
        """Segment a bulletin's text into case units and label each one."""
        if not request.text.strip():
            raise HTTPException(422, "text is empty; send the bulletin's text in the 'text' field")
        _require_unicode(request.text, "text")
        _require_unicode(request.source, "source")
        try:
            # the same decoding path as files, so a header-only text is refused the same way
            bulletin = read_bulletin_bytes(request.text.encode("utf-8"), request.source or "<text>")
        except InputError as err:
            logger.warning("rejected: %r", str(err))  # repr: a newline in 'source' cannot forge a log line
            raise HTTPException(422, str(err)) from err
        return label(bulletin)

    @app.post("/predict/file", response_model=PredictResponse, responses={413: {"description": "file too large"}})
    def predict_file(file: Annotated[UploadFile, File(description=UPLOAD_HELP)]) -> PredictResponse:
        """Decode an uploaded bulletin file, then segment and label it like ``/predict``."""
        name = file.filename or "upload.txt"
        suffix = Path(name).suffix.lower() or ".txt"
        try:
            bulletin = read_bulletin_bytes(file.file.read(), name, suffix)
        except InputError as err:
            logger.warning("rejected: %r", str(err))
            raise HTTPException(422, str(err)) from err
        return label(bulletin)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The labelling page: paste or upload a bulletin, see each case unit highlighted, download a CSV."""
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app
