"""The FastAPI application that serves a sentiment model (book chapter 16).

* ``POST /v1/sentiment``: one text or a batch (the body is described in
  :mod:`companion.serving.validation`); every text goes through the
  :class:`companion.serving.batching.DynamicBatcher`, so concurrent requests share model calls;
* ``GET /healthz``: 200 while the process serves HTTP at all (liveness);
* ``GET /readyz``: 200 once the model is loaded, 503 before (readiness: a load balancer sends
  no traffic to a server that is not ready);
* ``GET /metrics``: :class:`companion.serving.metrics.ServerMetrics` in the Prometheus text format.

Every refused request gets ``{"detail": message}`` with a 4xx status; a model failure gets
500 for that request alone; a request that finds the batcher's queue full gets 503 with a
``Retry-After`` header at once (load shedding); after shutdown starts, new requests get 503 while the ones already
queued are answered. The model loads in a worker thread after the server starts, so that
``/healthz`` answers at once and ``/readyz`` says when the model is there.
"""


import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from companion.checks import check_positive_int
from companion.serving.batching import BatcherClosedError, DynamicBatcher, QueueFullError
from companion.serving.metrics import ServerMetrics
from companion.serving.validation import Limits, RequestError, parse_sentiment_body

logger = logging.getLogger("companion.serving")

ROUTES = ("/v1/sentiment", "/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class ServingConfig:
    """How the server batches (``max_batch_size=1`` turns batching off) and what it accepts."""

    max_batch_size: int = 32
    max_wait_ms: float = 5.0
    max_queued_texts: int = 1024
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self):
        check_positive_int(self.max_batch_size, "max_batch_size")
        check_positive_int(self.max_queued_texts, "max_queued_texts")
        if isinstance(self.max_wait_ms, bool) or not isinstance(self.max_wait_ms, (int, float)) \
                or not 0 <= self.max_wait_ms <= 1000:
            raise ValueError(f"max_wait_ms must be a number in [0, 1000]; got {self.max_wait_ms!r}")
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a Limits; got {type(self.limits).__name__}")


class _State:
    def __init__(self):
        self.model = None
        self.batcher: DynamicBatcher | None = None
        self.load_error: str | None = None
        self.metrics = ServerMetrics()


class _MetricsMiddleware:
    """Counts every answer and times it (an ASGI middleware: it sees the status code as it is sent)."""

    def __init__(self, app, metrics: ServerMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            path = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.observe_request(path, status["code"], time.perf_counter() - started)


async def _read_body(request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes (without reading it all)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body must be at most {limit} bytes; Content-Length says {declared}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body must be at most {limit} bytes; got more than {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(load_model: Callable[[], object], config: ServingConfig = ServingConfig(), *,
               description: str = "sentiment model"):
    """A FastAPI application serving ``load_model()`` (an object with ``predict(texts) -> list``)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response

    if not callable(load_model):
        raise TypeError(f"load_model must be a callable that returns the model; got {type(load_model).__name__}")
    if not isinstance(config, ServingConfig):
        raise TypeError(f"config must be a ServingConfig; got {type(config).__name__}")
    state = _State()

    async def load() -> None:
        try:
            model = await asyncio.to_thread(load_model)
            predict = getattr(model, "predict", None)
            if not callable(predict):
                raise TypeError(f"the loaded model has no predict(texts) method; got {type(model).__name__}")
        except Exception as error:  # noqa: BLE001 - reported by /readyz and the log
            state.load_error = f"{type(error).__name__}: {error}"
            logger.error("the model failed to load: %s", state.load_error)
            return
        batcher = DynamicBatcher(predict, max_batch_size=config.max_batch_size,
                                 max_wait_s=config.max_wait_ms / 1000, max_queued_texts=config.max_queued_texts,
                                 on_batch=state.metrics.observe_batch)
        batcher.start()
        state.model, state.batcher = model, batcher
        state.metrics.ready.set(1)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        loading = asyncio.get_running_loop().create_task(load())
        yield
        # Shutdown: uvicorn has stopped accepting connections and waited for open requests;
        # the batcher refuses new texts and answers every queued one before it stops.
        await loading
        if state.batcher is not None:
            await state.batcher.close()
        state.metrics.ready.set(0)

    app = FastAPI(title="companion serving", description=f"Chapter 16's {description} over HTTP.",
                  lifespan=lifespan)
    app.state.serving = state

    @app.exception_handler(RequestError)
    async def refused(request, error: RequestError):
        return JSONResponse({"detail": error.message}, status_code=error.status)

    @app.post("/v1/sentiment")
    async def sentiment(request: Request):
        texts, is_batch = parse_sentiment_body(await _read_body(request, config.limits.max_body_bytes),
                                               config.limits)
        if state.batcher is None:
            detail = ("the model failed to load: " + state.load_error) if state.load_error else \
                "the model is still loading; retry when GET /readyz answers 200"
            return JSONResponse({"detail": detail}, status_code=503)
        try:
            results = await state.batcher.submit(texts)
        except BatcherClosedError as error:
            return JSONResponse({"detail": str(error)}, status_code=503)
        except QueueFullError as error:
            return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "1"})
        except Exception as error:  # noqa: BLE001 - this request alone fails
            logger.exception("the model failed on a request")
            return JSONResponse({"detail": f"the model failed on this request: {type(error).__name__}: {error}"},
                                status_code=500)
        return {"results": results} if is_batch else results[0]

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        if state.batcher is not None:
            manifest = getattr(state.model, "manifest", None)
            return {"status": "ready", "model": manifest}
        if state.load_error:
            return JSONResponse({"status": "failed", "detail": state.load_error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)

    @app.get("/metrics")
    async def metrics():
        body, content_type = state.metrics.exposition()
        return Response(body, media_type=content_type)

    app.add_middleware(_MetricsMiddleware, metrics=state.metrics)
    return app
