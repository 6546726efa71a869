"""FastAPI app over one ``Predictor``: ``POST /predict`` (JSON text), ``POST /predict/file`` (upload),
``POST /predict/batch`` (several files or ``.zip`` archives), ``POST /export/{csv,xlsx}`` (records as a spreadsheet),
``GET /health`` and ``GET /`` (a single offline page: one results table over every file, filters, downloads, and each
case unit highlighted in its bulletin).

Every response carries the decoded bulletin ``text`` the offsets point into: for an uploaded .html, .docx or .pdf
that is the extracted text, not the uploaded bytes, so a client can highlight ``text[start:end]`` directly.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data.errors import InputError
from data.inputs import ARCHIVE_SUFFIX, InputFailure, read_archive_bytes
from data.labels import DEFAULT_LANG, LANGS
from data.output import RecordWriter
from data.reader import Bulletin, read_bulletin_bytes
from models.batch import BATCH_BULLETINS
from models.predictor import Predictor

logger = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("static") / "index.html"
UPLOAD_HELP = "A bulletin file: .txt (UTF-8, GBK, GB18030 or Big5), .html, .docx or .pdf (text layer)."
BATCH_HELP = "Bulletin files and/or .zip archives of them (a zipped folder); each is read on its own."
DEFAULT_MAX_BYTES = 2_000_000  # a bulletin is a few KB; a 2 MB request is already a mistake or an abuse
# A folder of bulletins, or a spreadsheet export of its results, is many bulletins: the batch and export routes take
# one bulletin's file limit (data.reader.MAX_BYTES) for the whole request, which the body limit buffers in memory.
DEFAULT_MAX_BATCH_BYTES = 20_000_000
BATCH_PATHS = ("/predict/batch", "/export/")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PROBABILITIES_HELP = (
    "Whether the scores are probabilities. False for the rule labeler, whose scores are cue weights, not a measured "
    "confidence: show no percentage for them."
)


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
    primary_penalty_name: str = Field(description="The primary penalty's name ('无' / 'none' without penalties).")
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
    probabilities: bool = Field(True, description=PROBABILITIES_HELP)


class Failure(BaseModel):
    """A file of a batch that could not be read (the other files are still labelled)."""

    source: str
    error: str


class BatchResponse(BaseModel):
    """Every bulletin of a batch upload, labelled, and every file that could not be read, with the reason."""

    n_bulletins: int
    n_cases: int
    results: list[PredictResponse] = Field(description="One entry per bulletin read, in upload (and archive) order.")
    failures: list[Failure] = Field(description="One entry per file or archive member that could not be read.")
    probabilities: bool = Field(True, description=PROBABILITIES_HELP)


class ExportRequest(BaseModel):
    """Output records (``Case`` objects, or ``{"source", "error"}`` / ``{"source", "case": null, "note"}``)."""

    records: list[dict[str, Any]] = Field(description="Records as /predict returns them; columns as penalty predict.")


class Health(BaseModel):
    status: str
    model: str
    model_type: str = Field(description="rules, tfidf, bert or onnx.")
    probabilities: bool = Field(description=PROBABILITIES_HELP)
    lang: str = Field(description="The language of the label names in responses (penalty serve --lang).")


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

    def __init__(self, app: ASGIApp, max_bytes: int, max_batch_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_batch_bytes = max_bytes if max_batch_bytes is None else max_batch_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        batch = scope.get("path", "").startswith(BATCH_PATHS)
        limit = self.max_batch_bytes if batch else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
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
            if size > limit:
                await self._reject(scope, receive, send, limit)
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

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = (
            f"request body larger than the {limit:,}-byte limit; "
            "send fewer or smaller files at a time, or label large batches with 'penalty predict'"
        )
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


def _read_upload(raw: bytes, name: str) -> list[Bulletin | InputFailure]:
    """One uploaded file of a batch: a ``.zip`` gives its members (``data.inputs.read_archive_bytes``: the readers'
    limits on what is unpacked), any other file one bulletin or one failure."""
    suffix = Path(name).suffix.lower() or ".txt"
    if suffix == ARCHIVE_SUFFIX:
        return list(read_archive_bytes(raw, name))
    try:
        return [read_bulletin_bytes(raw, name, suffix)]
    except InputError as err:
        return [InputFailure(name, str(err))]


def export_records(records: list[dict], kind: str) -> bytes:
    """Records as a CSV or XLSX file, written by ``data.output.RecordWriter`` (the columns of ``penalty predict -o``
    and its formula neutralisation), so the page's downloads and the command line's files are the same."""
    with tempfile.TemporaryDirectory(prefix="penalty-export-") as folder:
        path = Path(folder) / f"cases.{kind}"
        with RecordWriter(path) as out:
            for record in records:
                out.write(record)
        return path.read_bytes()


def create_app(
    predictor: Predictor,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lang: str = DEFAULT_LANG,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
) -> FastAPI:
    """The web service for one loaded predictor.

    Args:
        predictor: any ``Predictor`` (rules, fine-tuned, ONNX); loaded once, shared by all requests.
        max_bytes: largest request body accepted; larger ones get 413.
        lang: the language of label names in responses (``zh`` or ``en``, as ``penalty predict --lang``).
        max_batch_bytes: largest body of ``/predict/batch`` and ``/export/…`` (many files, or many records).

    Raises:
        ValueError: ``lang`` is not one of ``LANGS``.

    Returns:
        The FastAPI application (run it with uvicorn, or test it with ``fastapi.testclient.TestClient``).
    """
    app = FastAPI(
        title="penalty",
        description="Find and label the case units of Chinese cyber-security enforcement bulletins.",
        version="0.1.0",
    )
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, found {lang!r}")
    app.add_middleware(_BodyLimit, max_bytes=max_bytes, max_batch_bytes=max_batch_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    # Fast tokenizers fail with "Already borrowed" when two threads set truncation at once, and inference is
    # CPU-bound anyway: one request labels at a time, the others wait in FastAPI's thread pool.
    lock = threading.Lock()

    probabilities = predictor.probabilities

    def label_many(bulletins: list[Bulletin]) -> list[PredictResponse]:
        responses = []
        for start in range(0, len(bulletins), BATCH_BULLETINS):  # length-sorted batches pay over a few dozen
            chunk = bulletins[start : start + BATCH_BULLETINS]
            with lock:
                labelled = predictor.predict_bulletins(chunk)
            for bulletin, predictions in zip(chunk, labelled, strict=True):
                cases = [Case.model_validate(predictor.record(p, lang)) for p in predictions]
                responses.append(
                    PredictResponse(
                        source=bulletin.source,
                        text=bulletin.text,
                        n_cases=len(cases),
                        cases=cases,
                        probabilities=probabilities,
                    )
                )
        return responses

    def label(bulletin: Bulletin) -> PredictResponse:
        return label_many([bulletin])[0]

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness check naming the loaded model, whether its scores are probabilities and the names' language."""
        model_type = predictor.labeler.model_type
        return Health(status="ok", model=predictor.name, model_type=model_type, probabilities=probabilities, lang=lang)

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

    @app.post("/predict/batch", response_model=BatchResponse, responses={413: {"description": "upload too large"}})
    def predict_batch(files: Annotated[list[UploadFile], File(description=BATCH_HELP)]) -> BatchResponse:
        """Label several bulletin files and .zip archives at once; a file that cannot be read is listed in
        ``failures`` with the reason and the others are still labelled (the response is 200 either way)."""
        bulletins: list[Bulletin] = []
        failures: list[Failure] = []
        for upload in files:
            for item in _read_upload(upload.file.read(), upload.filename or "upload.txt"):
                if isinstance(item, InputFailure):
                    logger.warning("rejected: %r", item.error)
                    failures.append(Failure(source=item.source, error=item.error))
                else:
                    bulletins.append(item)
        results = label_many(bulletins)
        return BatchResponse(
            n_bulletins=len(results),
            n_cases=sum(r.n_cases for r in results),
            results=results,
            failures=failures,
            probabilities=probabilities,
        )

    @app.post(
        "/export/{kind}",
        response_class=Response,
        responses={
            200: {"content": {media: {} for media in EXPORT_TYPES.values()}},
            413: {"description": "too large"},
        },
    )
    def export(kind: Literal["csv", "xlsx"], request: ExportRequest) -> Response:
        """Records (what /predict and /predict/batch return, filtered or not) as a CSV or XLSX download with the
        columns of ``penalty predict -o``; cells a spreadsheet would run as formulas are written as text."""
        try:
            json.dumps(request.records, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            raise HTTPException(422, "records hold an unpaired surrogate; send valid Unicode text") from err
        headers = {"Content-Disposition": f'attachment; filename="cases.{kind}"'}
        return Response(export_records(request.records, kind), media_type=EXPORT_TYPES[kind], headers=headers)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The labelling page: paste a bulletin or upload files, a folder or a .zip; see the cases in one table
        with filters, each case unit highlighted in its bulletin; download the (filtered) results as CSV or XLSX."""
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app
