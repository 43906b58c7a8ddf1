"""Serve a saved bundle over HTTP: `nnbuilder serve BUNDLE` runs a FastAPI app on 127.0.0.1 (uvicorn).

    GET  /          the task, input columns with their types and known values, classes, outputs, links
    GET  /health    {"status": "ok", "task": ..., "nnbuilder_version": ...}
    POST /predict   {"rows": [{column: value, ...}]} -> {"predictions": [...]}: Bundle.predict's frame as JSON
                    (NaN -> null); a time-series bundle reads the rows as history
    POST /generate  GAN bundles only, instead of /predict: {"rows": N, "seed": 0} -> {"rows": [...]}

The OpenAPI schema (/docs) is generated from the bundle: one REQUIRED field per input column (null = missing),
typed by its role (ROLE_TYPES), aliased to the real column name, with an example from the fitted preprocessing.
Extra keys in a row are IGNORED, like Bundle.predict ignores extra columns: clients may send whole records, and
a misspelt column still fails because the right one is then missing. /generate forbids extra keys (two settings).
Bad requests get a 4xx with a one-line `detail` (+ `problems`): bad JSON or types 422, too many rows 413, an
NNBuilderError 400; a 500 is a bug. The bundle loads once; predictions run one at a time under a lock and
`torch.inference_mode()` (fitted scikit-learn objects and modules are not documented as thread-safe, and a
small model answers before a queue builds). No authentication: `serve` warns when not on loopback.
"""

import ipaddress
import logging
import math
import socket
import sys
import threading

import numpy as np
import pandas as pd
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, create_model
from starlette.exceptions import HTTPException

from nnbuilder import __version__
from nnbuilder.data.roles import parse_dates
from nnbuilder.errors import NNBuilderError
from nnbuilder.serve.schema import ROLE_TYPES, ROWS_HINT, answer_model, fitted_stats, input_columns, output_fields, request_model
from nnbuilder.model.heads import task_label
from nnbuilder.tasks import get_task

log = logging.getLogger("nnbuilder.serve.app")
def _plain(value):
    """One cell as JSON: numpy -> Python, NaN/inf/NaT -> null (JSON has no NaN), timestamps -> ISO text."""
    value = value.item() if isinstance(value, np.generic) else value
    if value is None or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return pd.Timestamp(value).isoformat() if isinstance(value, (pd.Timestamp, np.datetime64)) else value


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-safe row dicts."""
    columns = [str(c) for c in frame.columns]
    return [{c: _plain(v) for c, v in zip(columns, row)} for row in frame.itertuples(index=False, name=None)]


def create_app(bundle, *, max_rows: int = 10_000) -> FastAPI:
    """The HTTP app for one loaded bundle (see the module docstring)."""
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
        raise NNBuilderError(f"max_rows must be a whole number of at least 1; got {max_rows!r}")
    task, is_gan = bundle.task, get_task(bundle.task).generate is not None  # a generator answers /generate
    columns = [] if is_gan else input_columns(bundle)
    roles, lock = {c["name"]: c["role"] for c in columns}, threading.Lock()
    app = FastAPI(title=f"nnbuilder model: {task_label(task)}", version=__version__,
                  description=f"Answers from an nnbuilder bundle ({task}); GET / describes the inputs.")
    max_body = 1_000_000 + max_rows * 64 * (len(columns) + 2)  # generous per value, but bounded

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length", "0")
        if size.isdigit() and int(size) > max_body:
            return _error(413, f"the request body is {int(size):,} bytes; this server takes at most {max_body:,} "
                          f"(--max-rows {max_rows}); send fewer rows per request")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems, too_many = _problems(exc.errors(), roles, max_rows)
        summary = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        return _error(413 if too_many else 422, summary if len(problems) == 1 else f"{len(problems)} problems: "
                      + summary, problems[:50])

    @app.exception_handler(NNBuilderError)
    async def engine_error(request: Request, exc: NNBuilderError):
        return _error(400, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        detail = str(exc.detail)
        if detail == "There was an error parsing the body":  # FastAPI's words for bytes that are not UTF-8 JSON
            detail = f"the request body could not be read as JSON (UTF-8 text expected); send {ROWS_HINT}"
        return _error(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        log.exception("internal error while answering %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({exc.__class__.__name__}): a bug in nnbuilder, not in your request; "
                      "the server log has the details")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "task": task, "nnbuilder_version": __version__}

    @app.get("/")
    def describe() -> dict:
        known = fitted_stats(bundle)[1]
        inputs = [{"name": c["name"], "role": c["role"], "expects": ROLE_TYPES[c["role"]][1]}
                  | ({"known_values": known[c["name"]]} if c["name"] in known else {}) for c in columns]
        return {"model": "nnbuilder bundle", "task": task, "task_label": task_label(task), "inputs": inputs,
                "input_kind": bundle.meta.get("input_kind"), "classes": bundle.classes, "max_rows": max_rows,
                "outputs": list(output_fields(bundle)), "nnbuilder_version": __version__,
                "links": {"predict": "POST /generate" if is_gan else "POST /predict", "health": "/health",
                          "docs": "/docs", "openapi": "/openapi.json"}}

    Answer = answer_model("Generated" if is_gan else "Predictions", "rows" if is_gan else "predictions",
                           output_fields(bundle))
    if is_gan:
        Ask = create_model("GenerateRequest", __config__=ConfigDict(extra="forbid"),
                           rows=(int, Field(..., ge=1, le=max_rows, description=f"how many rows (1 to {max_rows})")),
                           seed=(int, Field(0, ge=0, description="the same seed gives the same rows")))

        @app.post("/generate", responses={200: {"model": Answer}})
        def generate(body: Ask) -> JSONResponse:
            with lock, torch.inference_mode():
                return JSONResponse({"rows": records(bundle.generate(body.rows, seed=body.seed))})
    else:
        Rows = request_model(bundle, columns, max_rows)

        @app.post("/predict", responses={200: {"model": Answer}})
        def predict(body: Rows) -> JSONResponse:
            frame = pd.DataFrame([row.model_dump(by_alias=True) for row in body.rows], columns=list(roles))
            _check_dates(frame, columns)
            with lock, torch.inference_mode():
                return JSONResponse({"predictions": records(bundle.predict(frame))})

    @app.post("/predict" if is_gan else "/generate", include_in_schema=False)
    def wrong_endpoint() -> JSONResponse:  # the other task's endpoint: say which one to use
        return _error(400, 'this bundle is a GAN: it generates rows instead of predicting them; POST /generate '
                      '{"rows": N, "seed": 0}' if is_gan else f"this bundle is a {task} model: it predicts rows, "
                      f"only a GAN bundle generates them; POST /predict {ROWS_HINT}")

    return app


def _check_dates(frame: pd.DataFrame, columns: list[dict]) -> None:
    """A date that does not parse would silently become missing in the engine; here it is the caller's 422."""
    for col in (c for c in columns if c["role"] == "datetime"):
        values = frame[col["name"]]
        bad = (parse_dates(values, col["date_format"]).isna() & values.notna()).to_numpy()
        if bad.any():
            row = int(bad.argmax())
            raise RequestValidationError([{"type": "date", "loc": ("body", "rows", row, col["name"]),
                                           "msg": "not a date", "input": values.iloc[row]}])


# Problems with the 'rows' list itself, by pydantic error type.
ROWS_PROBLEMS = {"too_short": "'rows' is empty; send at least one row",
                 "list_type": f"'rows' must be a list of row objects like {ROWS_HINT}; got {{shown}}",
                 "missing": f"the request body lacks 'rows'; send {ROWS_HINT}"}


def _problems(errors, roles: dict[str, str], max_rows: int) -> tuple[list[str], bool]:
    """Pydantic's errors as one line each (missing columns merged into one line), and whether rows were too many."""
    problems, missing, seen, too_many = [], {}, set(), False
    for error in errors:
        loc, kind, given = [p for p in error["loc"] if p != "body"], error["type"], error.get("input")
        shown = repr(given) if len(repr(given)) <= 40 else repr(given)[:37] + "..."
        in_row = len(loc) >= 2 and loc[0] == "rows" and isinstance(loc[1], int)
        if kind == "json_invalid":
            text = (f"the request body is not valid JSON ({error.get('ctx', {}).get('error', 'decode error')} at "
                    f"character {loc[0] if loc else 0}); send {ROWS_HINT}")
        elif not loc:
            text = f"the request body must be a JSON object like {ROWS_HINT}; got {shown if given else 'nothing'}"
        elif loc == ["rows"] and kind in ("too_long", "less_than_equal"):
            too_many = True
            text = (f"'rows' asks for {len(given) if isinstance(given, list) else given} rows; this server takes at "
                    f"most {max_rows} per request (--max-rows); split the request")
        elif loc == ["rows"] and kind in ROWS_PROBLEMS:
            text = ROWS_PROBLEMS[kind].replace("{shown}", shown)
        elif in_row and len(loc) == 2:
            text = f"rows[{loc[1]}] must be an object of column: value pairs; got {shown}"
        elif in_row and kind == "missing":
            missing.setdefault(str(loc[2]), loc[1])
            continue
        elif in_row and str(loc[2]) in roles:
            text = f"rows[{loc[1]}].{loc[2]} must be {ROLE_TYPES[roles[str(loc[2])]][1]}; got {shown}"
        else:
            text = f"'{'.'.join(str(p) for p in loc)}': {error.get('msg', kind)}; got {shown}"
        if text not in seen:  # a union type reports once per member
            seen.add(text)
            problems.append(text)
    if missing:
        first = min(missing.values())
        problems.insert(0, f"rows[{first}] lacks {len(missing)} column(s) the model needs: "
                        f"{', '.join(repr(c) for c, r in missing.items() if r == first)}"
                        f"{' (other rows lack more)' if len(set(missing.values())) > 1 else ''}; every row needs all "
                        f"{len(roles)} columns (null for a missing value), see GET /")
    return problems or ["the request is not valid"], too_many


def _error(status: int, detail: str, problems: list[str] | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"detail": detail} | ({"problems": problems} if problems else {}), status, headers=headers)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def _check_port(host: str, port: int) -> None:
    """One clear line instead of uvicorn's log and exit 1 when the address is taken or unknown."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no clash
            probe.bind(address)
    except OSError as exc:
        raise NNBuilderError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port, or "
                             "stop what uses it") from None


def serve(bundle_path, host: str = "127.0.0.1", port: int = 8000, max_rows: int = 10_000) -> None:
    """Load the bundle once, then answer on http://host:port until Ctrl-C (uvicorn)."""
    import uvicorn

    from nnbuilder.bundle.bundle import load_bundle

    bundle = load_bundle(bundle_path)  # BundleError for a bad path or altered files: the CLI exits 2
    app = create_app(bundle, max_rows=max_rows)
    if not is_loopback(host):
        print(f"warning: listening on {host}, not loopback: anyone who can reach this machine can use the model "
              "and there is no authentication; use --host 127.0.0.1 unless that is what you want", file=sys.stderr)
    _check_port(host, port)
    print(f"serving {bundle_path} ({task_label(bundle.task)}) on http://{host}:{port} (docs at /docs); "
          "Ctrl-C stops", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info")
