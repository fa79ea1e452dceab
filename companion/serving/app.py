"""The FastAPI application that serves a sentiment model (book chapter 16).

* ``POST /v1/sentiment``: one text or a batch (the body is described in
  :mod:`companion.serving.validation`); every text goes through the
  :class:`companion.serving.batching.DynamicBatcher` of its language (one per model), so
  concurrent requests share model calls;
* ``GET /healthz``: 200 while the process serves HTTP at all (liveness);
* ``GET /readyz``: 200 once the model is loaded, 503 before (readiness: a load balancer sends
  no traffic to a server that is not ready);
* ``GET /metrics``: :class:`companion.serving.metrics.ServerMetrics` in the Prometheus text format;
* ``POST /v1/generate`` (when the server was given a text generator): chapter 12's GPT
  continues a prompt; with ``"stream": true`` (the default) each character is sent as a
  server-sent event as soon as it exists (``data: {"text": "a"}``), then ``event: done``.
  Generation runs in a thread of its own, one decoding step at a time, so concurrent streams
  take turns step by step and never wait for each other's whole answer; their steps are not
  batched together (continuous batching, which chapter 16 measures, would do that).

Every refused request gets ``{"detail": message}`` with a 4xx status; a model failure gets
500 for that request alone; a request that finds the batcher's queue full gets 503 with a
``Retry-After`` header at once (load shedding). On shutdown uvicorn stops accepting connections and
waits for the requests in flight, then the batchers finish every queued text; a request that still
reaches the application after its batcher has closed gets 503. The model loads in a worker
thread after the server starts, so that ``/healthz`` answers at once and ``/readyz`` says when the
model is there.
"""


import asyncio
import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field

from companion.checks import check_positive_int
from companion.serving.batching import BatcherClosedError, DynamicBatcher, QueueFullError
from companion.serving.metrics import ServerMetrics
from companion.serving.validation import Limits, RequestError, parse_generate_body, parse_sentiment_body

logger = logging.getLogger("companion.serving")

ROUTES = ("/v1/sentiment", "/v1/generate", "/healthz", "/readyz", "/metrics")


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
        self.model = None  # the English model; self.models holds every language's
        self.models: dict[str, object] = {}
        self.batchers: dict[str, DynamicBatcher] = {}
        self.generator = None
        self.generator_pool: ThreadPoolExecutor | None = None
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
               description: str = "sentiment model", load_generator: Callable[[], object] | None = None,
               more_languages: dict[str, Callable[[], object]] | None = None):
    """A FastAPI application serving ``load_model()`` (an object with ``predict(texts) -> list``).

    ``load_model`` is the model of language ``"en"``; ``more_languages`` maps other language
    codes to loaders of models with the same ``predict``, each with a batcher of its own.

    ``load_generator``, if given, returns a :class:`companion.serving.text_generator.TextGenerator`
    (``stream(prompt, max_new_tokens, temperature=, top_k=, seed=)`` and ``max_len``) for
    ``POST /v1/generate``; the server is ready once both are loaded.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse

    if not callable(load_model):
        raise TypeError(f"load_model must be a callable that returns the model; got {type(load_model).__name__}")
    if load_generator is not None and not callable(load_generator):
        raise TypeError(f"load_generator must be None or a callable that returns a text generator; "
                        f"got {type(load_generator).__name__}")
    if not isinstance(config, ServingConfig):
        raise TypeError(f"config must be a ServingConfig; got {type(config).__name__}")
    loaders = {"en": load_model, **(more_languages or {})}
    if not all(isinstance(code, str) and callable(loader) for code, loader in loaders.items()):
        raise TypeError(f"more_languages must map language codes to callables; got {more_languages!r}")
    languages = tuple(loaders)
    state = _State()

    async def load() -> None:
        try:
            for language, loader in loaders.items():
                model = await asyncio.to_thread(loader)
                if not callable(getattr(model, "predict", None)):
                    raise TypeError(f"the loaded {language} model has no predict(texts) method; got "
                                    f"{type(model).__name__}")
                state.models[language] = model
            if load_generator is not None:
                state.generator = await asyncio.to_thread(load_generator)
                state.generator_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generator")
        except Exception as error:  # noqa: BLE001 - reported by /readyz and the log
            state.load_error = f"{type(error).__name__}: {error}"
            logger.error("the model failed to load: %s", state.load_error)
            return
        for language, model in state.models.items():
            batcher = DynamicBatcher(model.predict, max_batch_size=config.max_batch_size,
                                     max_wait_s=config.max_wait_ms / 1000, max_queued_texts=config.max_queued_texts,
                                     on_batch=state.metrics.observe_batch)
            batcher.start()
            state.batchers[language] = batcher
        state.model, state.batcher = state.models["en"], state.batchers["en"]
        state.metrics.ready.set(1)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        loading = asyncio.get_running_loop().create_task(load())
        yield
        # Shutdown: uvicorn has stopped accepting connections and waited for open requests;
        # the batcher refuses new texts and answers every queued one before it stops.
        await loading
        for batcher in state.batchers.values():
            await batcher.close()
        if state.generator_pool is not None:
            state.generator_pool.shutdown(wait=True)
        state.metrics.ready.set(0)

    app = FastAPI(title="companion serving", description=f"Chapter 16's {description} over HTTP.",
                  lifespan=lifespan)
    app.state.serving = state

    @app.exception_handler(RequestError)
    async def refused(request, error: RequestError):
        return JSONResponse({"detail": error.message}, status_code=error.status)

    @app.post("/v1/sentiment")
    async def sentiment(request: Request):
        texts, is_batch, language = parse_sentiment_body(await _read_body(request, config.limits.max_body_bytes),
                                                         config.limits, languages)
        if state.batcher is None:
            detail = ("the model failed to load: " + state.load_error) if state.load_error else \
                "the model is still loading; retry when GET /readyz answers 200"
            return JSONResponse({"detail": detail}, status_code=503)
        try:
            results = await state.batchers[language].submit(texts)
        except BatcherClosedError as error:
            return JSONResponse({"detail": str(error)}, status_code=503)
        except QueueFullError as error:
            return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "1"})
        except Exception as error:  # noqa: BLE001 - this request alone fails
            logger.exception("the model failed on a request")
            return JSONResponse({"detail": f"the model failed on this request: {type(error).__name__}: {error}"},
                                status_code=500)
        return {"results": results} if is_batch else results[0]

    @app.post("/v1/generate")
    async def generate(request: Request):
        if load_generator is None:
            return JSONResponse({"detail": "this server has no text generator; start it with "
                                           "`python -m companion serve --generator`"}, status_code=404)
        body = await _read_body(request, config.limits.max_body_bytes)
        if state.generator is None or state.batcher is None or state.batcher.closed:
            detail = ("the model failed to load: " + state.load_error) if state.load_error else \
                "the server is not ready (loading or shutting down); retry when GET /readyz answers 200"
            return JSONResponse({"detail": detail}, status_code=503)
        asked = parse_generate_body(body, state.generator.max_len, config.limits)
        characters = state.generator.stream(asked.prompt, asked.max_new_tokens, temperature=asked.temperature,
                                            top_k=asked.top_k, seed=asked.seed)
        steps = _Steps(characters, state.generator_pool, state.metrics)
        if not asked.stream:
            text = "".join([piece async for piece in steps])
            return {"text": text, "tokens": steps.count}

        async def events():
            try:
                async for piece in steps:
                    yield f"data: {json.dumps({'text': piece}, ensure_ascii=False)}\n\n"
            except Exception as error:  # noqa: BLE001 - the status line is sent: report in the stream
                logger.exception("the generator failed during a stream")
                yield f"event: error\ndata: {json.dumps({'detail': f'{type(error).__name__}: {error}'})}\n\n"
                return
            yield f"event: done\ndata: {json.dumps({'tokens': steps.count})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        if state.batcher is not None:
            manifest = getattr(state.model, "manifest", None)
            languages_served = {code: getattr(model, "manifest", None) for code, model in state.models.items()
                                if code != "en"}
            return {"status": "ready", "model": manifest, **({"languages": languages_served} if languages_served
                                                               else {})}
        if state.load_error:
            return JSONResponse({"status": "failed", "detail": state.load_error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)

    @app.get("/metrics")
    async def metrics():
        body, content_type = state.metrics.exposition()
        return Response(body, media_type=content_type)

    app.add_middleware(_MetricsMiddleware, metrics=state.metrics)
    return app


class _Steps:
    """``async for piece in _Steps(iterator, pool, metrics)``: each ``next()`` runs in ``pool``'s thread.

    One step (one decoding step of the GPT) at a time, so the event loop stays free between
    steps and other streams' steps can run in the same thread in between. Counts the pieces
    and records the time to the first one; closes the iterator, in its thread, when the
    consumer stops early (a client that disconnected).
    """

    def __init__(self, iterator, pool: ThreadPoolExecutor, metrics: ServerMetrics):
        self.iterator, self.pool, self.metrics = iterator, pool, metrics
        self.count = 0

    async def __aiter__(self):
        loop = asyncio.get_running_loop()
        started, done = time.perf_counter(), object()
        try:
            while True:
                piece = await loop.run_in_executor(self.pool, next, self.iterator, done)
                if piece is done:
                    return
                if self.count == 0:
                    self.metrics.first_token.observe(time.perf_counter() - started)
                self.count += 1
                self.metrics.generated_tokens.inc()
                yield piece
        finally:
            await loop.run_in_executor(self.pool, self.iterator.close)
