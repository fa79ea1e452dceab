"""A bounded load generator for a local server: throughput and latency percentiles (book chapter 16).

Two kinds of load, both bounded by a request count and a time limit:

* :func:`run_load`, a closed loop: ``concurrency`` clients each send one request, wait for its
  answer and send the next, as users behind a page do; the server sets the pace;
* :func:`run_open_load`, an open loop: requests arrive at the times of a Poisson process of
  rate ``rate_rps`` whatever the server does, as independent users do; this is the arrival
  process of the queueing formulas (16.2)-(16.4), and the one under which p99 explodes as the
  utilisation approaches 1.

The generator only talks to 127.0.0.1, localhost or ::1: a load test
aimed at someone else's server by mistake is an attack. By Little's law, Eq. (16.1), the
closed loop's throughput ``X`` and mean latency ``W`` satisfy ``concurrency = X W``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from urllib.parse import urlsplit

import numpy as np

from companion.checks import check_positive_int, check_seed, check_texts

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_local_url(url: str) -> str:
    """``url`` if it is an http URL of this machine, else ValueError."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string; got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(f"the load generator only targets http://127.0.0.1, localhost or [::1]; got {url!r}")
    return url.rstrip("/")


def _run_to_completion(coroutine):
    """``asyncio.run(coroutine)``, in a thread of its own when this thread already runs an event loop.

    A Jupyter kernel runs one, and ``asyncio.run`` refuses to start a second loop inside it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _check_time_limit(time_limit_s) -> None:
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float)) or not 0 < time_limit_s <= 3600:
        raise ValueError(f"time_limit_s must be a number of seconds in (0, 3600]; got {time_limit_s!r}")


def latency_summary(latencies_s) -> dict:
    """Median, p95, p99 and maximum of latencies, in milliseconds (NumPy's linear-interpolation percentiles)."""
    values = np.asarray(latencies_s, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"latencies_s must be a non-empty 1-d sequence; got shape {values.shape}")
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50_ms": 1e3 * p50, "p95_ms": 1e3 * p95, "p99_ms": 1e3 * p99, "max_ms": 1e3 * values.max(),
            "mean_ms": 1e3 * values.mean()}


async def _load(url: str, texts: list[str], concurrency: int, n_requests: int, time_limit_s: float,
                timeout_s: float) -> dict:
    import httpx

    latencies, statuses, errors = [], {}, []
    next_index = 0
    started = time.perf_counter()
    deadline = started + time_limit_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:

        async def client_loop() -> None:
            nonlocal next_index
            while next_index < n_requests and time.perf_counter() < deadline:
                text = texts[next_index % len(texts)]
                next_index += 1
                sent = time.perf_counter()
                try:
                    answer = await client.post("/v1/sentiment", json={"text": text})
                    status = answer.status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                    errors.append(f"{status}: {error}")
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    sent = sum(statuses.values())
    result = {"concurrency": concurrency, "requests": sent, "ok": statuses.get(200, 0),
              "failed": sent - statuses.get(200, 0), "statuses": {str(k): v for k, v in statuses.items()},
              "seconds": seconds, "throughput_rps": statuses.get(200, 0) / seconds, "errors": errors[:5]}
    if latencies:
        result.update(latency_summary(latencies))
    return result


async def _open_load(url: str, texts: list[str], arrivals: np.ndarray, time_limit_s: float, timeout_s: float,
                     max_in_flight: int) -> dict:
    import httpx

    latencies, statuses = [], {}
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:
        started = time.perf_counter()

        async def one(index: int) -> None:
            due = started + arrivals[index]
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                status = (await client.post("/v1/sentiment", json={"text": texts[index % len(texts)]})).status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                latencies.append(time.perf_counter() - due)  # from the arrival: waiting for a connection counts

        due = arrivals[arrivals < time_limit_s]
        await asyncio.gather(*(one(i) for i in range(len(due))))
        seconds = time.perf_counter() - started
    sent = sum(statuses.values())
    result = {"rate_rps": len(arrivals) / arrivals[-1], "requests": sent, "ok": statuses.get(200, 0),
              "failed": sent - statuses.get(200, 0), "statuses": {str(k): v for k, v in statuses.items()},
              "seconds": seconds, "throughput_rps": statuses.get(200, 0) / seconds}
    if latencies:
        result.update(latency_summary(latencies))
    return result


def run_open_load(url: str, texts, *, rate_rps: float, n_requests: int, seed: int = 0, time_limit_s: float = 60.0,
                  timeout_s: float = 30.0, max_in_flight: int = 256) -> dict:
    """Send ``n_requests`` single-text requests at Poisson arrival times of rate ``rate_rps`` (seeded).

    Latency runs from each request's arrival time, so time spent waiting for one of the
    ``max_in_flight`` connections counts as queueing, as it would for a real user.
    """
    url = check_local_url(url)
    texts = check_texts(texts, allow_blank=False)
    n_requests = check_positive_int(n_requests, "n_requests")
    max_in_flight = check_positive_int(max_in_flight, "max_in_flight")
    if isinstance(rate_rps, bool) or not isinstance(rate_rps, (int, float)) or not 0 < rate_rps <= 10_000:
        raise ValueError(f"rate_rps must be a number of requests per second in (0, 10000]; got {rate_rps!r}")
    _check_time_limit(time_limit_s)
    gaps = np.random.default_rng(check_seed(seed)).exponential(1.0 / rate_rps, size=n_requests)
    arrivals = np.cumsum(gaps)
    return _run_to_completion(_open_load(url, texts, arrivals, float(time_limit_s), float(timeout_s), max_in_flight))


def run_load(url: str, texts, *, concurrency: int, n_requests: int, time_limit_s: float = 60.0,
             timeout_s: float = 30.0) -> dict:
    """Send ``n_requests`` single-text requests (cycling through ``texts``) from ``concurrency`` clients.

    Returns the counts (``requests``, ``ok``, ``failed``, ``statuses``), the wall time, the
    throughput of answered requests per second and the latency summary of the 200 answers.
    """
    url = check_local_url(url)
    texts = check_texts(texts, allow_blank=False)
    concurrency = check_positive_int(concurrency, "concurrency")
    n_requests = check_positive_int(n_requests, "n_requests")
    _check_time_limit(time_limit_s)
    return _run_to_completion(_load(url, texts, concurrency, n_requests, float(time_limit_s), float(timeout_s)))
