"""Chapter 16's server for real: uvicorn in a child process on a free local port, spoken to over HTTP.

Most tests serve the stand-in model of ``tests/serving_fake.py`` (fast and able to fail on
demand); the last ones build the real int8 MiniLM model (on 256 training texts, to be quick)
and serve it with ``python -m companion serve``.
"""

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from companion.serving.metrics import parse_exposition
from companion.serving.server import ServerProcess, free_port, serve_command
from serving_fake import fake_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    with fake_server() as running:
        yield running


def post(server, body, **kwargs):
    content = body if isinstance(body, (bytes, str)) else None
    return httpx.post(server.url + "/v1/sentiment", content=content, json=None if content is not None else body,
                      timeout=10, **kwargs)


def test_health_readiness_and_one_answer(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["model"]["name"] == "fake"
    answer = post(server, {"text": "a good film"})
    assert answer.status_code == 200 and answer.json()["label"] == "positive"
    batch = post(server, {"texts": ["good", "dull"]})
    assert [row["label"] for row in batch.json()["results"]] == ["positive", "negative"]


@pytest.mark.parametrize("body, status, words", [
    ("{oops", 400, "must be JSON"),
    ({"texts": ["fine"], "extra": 1}, 422, "unknown field(s) ['extra']"),
    ({}, 422, "exactly one of"),
    ({"text": ["a list"]}, 422, "must be a string; got list of 1"),
    ({"text": ""}, 422, "non-space character"),
    ({"text": "x" * 101}, 422, "at most 100 characters; got 101"),
    ({"texts": ["a"] * 5}, 422, "1 to 4 strings; got 5"),
    (b"x" * 3000, 413, "at most 2048 bytes"),
])
def test_bad_input_gets_a_clear_4xx_and_the_server_keeps_serving(server, body, status, words):
    answer = post(server, body)
    assert answer.status_code == status
    assert words in answer.json()["detail"]
    assert post(server, {"text": "still good"}).json()["label"] == "positive"


def test_a_chunked_body_over_the_limit_is_refused_without_a_content_length(server):
    def chunks():
        for _ in range(10):
            yield b" " * 500  # 5,000 bytes, no Content-Length header: read until the limit is passed

    answer = httpx.post(server.url + "/v1/sentiment", content=chunks(), timeout=10)
    assert answer.status_code == 413 and "at most 2048 bytes" in answer.json()["detail"]


def test_unknown_paths_and_methods_are_4xx(server):
    assert httpx.get(server.url + "/v1/nothing").status_code == 404
    assert httpx.get(server.url + "/v1/sentiment").status_code == 405


def test_a_model_failure_is_500_for_that_request_alone(server):
    bodies = [{"text": "good one"}, {"text": "FAIL here"}, {"text": "another good one"}] * 3
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: post(server, body), bodies))
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 500, 200] * 3
    assert "the fake model refuses texts that contain FAIL" in answers[1].json()["detail"]
    assert post(server, {"text": "good after"}).status_code == 200


def test_concurrent_requests_are_batched(server):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: post(server, {"text": f"good {i}"}), range(8)))
    sizes = [answer.json()["batch_size"] for answer in answers]
    assert max(sizes) > 1  # the fake model reports the size of the call it ran in
    assert all(answer.json()["label"] == "positive" for answer in answers)


def test_metrics_count_requests_by_status(server):
    before = parse_exposition(httpx.get(server.url + "/metrics").text)
    post(server, {"text": "good"})
    post(server, {"text": 1})
    after = parse_exposition(httpx.get(server.url + "/metrics").text)
    ok, bad = ('http_requests_total{path="/v1/sentiment",status="200"}',
               'http_requests_total{path="/v1/sentiment",status="422"}')
    assert after[ok] - before.get(ok, 0) == 1
    assert after[bad] - before.get(bad, 0) == 1
    assert after["model_ready"] == 1
    assert after["model_batch_size_count"] >= 1


def test_the_load_generators_send_exactly_what_they_are_told(server):
    from companion.serving.load import run_load, run_open_load

    closed = run_load(server.url, ["good"], concurrency=4, n_requests=40)
    assert (closed["requests"], closed["ok"], closed["failed"]) == (40, 40, 0)
    opened = run_open_load(server.url, ["good"], rate_rps=200, n_requests=40, seed=1)
    assert (opened["requests"], opened["ok"], opened["failed"]) == (40, 40, 0)
    assert 0 < opened["p50_ms"] <= opened["p99_ms"]


def test_the_load_generator_counts_failed_requests(server):
    from companion.serving.load import run_load

    result = run_load(server.url, ["FAIL"], concurrency=2, n_requests=6)
    assert result["failed"] == 6 and result["statuses"] == {"500": 6} and "p50_ms" not in result


def test_not_ready_until_the_model_is_loaded():
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.serving_fake:create_fake_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_LOAD_SECONDS": "3"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered /healthz"
                time.sleep(0.05)
        assert health.status_code == 200
        loading = httpx.get(url + "/readyz")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        early = httpx.post(url + "/v1/sentiment", json={"text": "good"})
        assert early.status_code == 503 and "still loading" in early.json()["detail"]
        while httpx.get(url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the model never became ready"
            time.sleep(0.1)
        assert httpx.post(url + "/v1/sentiment", json={"text": "good"}).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_shutdown_answers_the_requests_in_flight():
    server = fake_server(FAKE_BATCH_SECONDS="0.5", FAKE_MAX_BATCH="1", FAKE_MAX_WAIT_MS="0")
    with server:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            in_flight = [pool.submit(post, server, {"text": f"good {i}"}) for i in range(3)]
            time.sleep(0.3)  # all three are inside the server; the model answers one per 0.5 s
            started = time.monotonic()
            server.stop()
            stopped_after = time.monotonic() - started
            answers = [future.result() for future in in_flight]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert stopped_after > 0.8  # it waited for the model to finish the queued requests
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=1)


def test_an_overloaded_server_sheds_requests_with_503_and_retry_after():
    # one text per 0.3 s and room for 2 waiting: of 6 simultaneous requests, 1 computes, 2 wait, 3 are shed
    with fake_server(FAKE_BATCH_SECONDS="0.3", FAKE_MAX_BATCH="1", FAKE_MAX_WAIT_MS="0", FAKE_MAX_QUEUED="2") as server:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda i: post(server, {"text": f"good {i}"}), range(6)))
        statuses = [answer.status_code for answer in answers]
        shed = [answer for answer in answers if answer.status_code == 503]
        # 3 shed when the first request is already computing as the others arrive, 4 if it is not yet
        assert statuses.count(200) >= 2 and 3 <= len(shed) <= 4 and len(shed) + statuses.count(200) == 6, statuses
        assert all(answer.headers["retry-after"] == "1" and "over capacity" in answer.json()["detail"]
                   for answer in shed)
        assert post(server, {"text": "good"}).status_code == 200  # the queue drained: served again


# --- the real model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_model(tmp_path_factory):
    from companion.serving.sentiment_model import build_sentiment_model

    return build_sentiment_model(tmp_path_factory.mktemp("sentiment") / "model", n_train=256)


def test_the_built_model_is_int8_onnx_with_its_measured_accuracy(built_model):
    import json

    manifest = json.loads((built_model / "manifest.json").read_text())
    assert manifest["labels"] == ["negative", "positive"] and manifest["weights"].startswith("int8")
    assert manifest["test_texts"] > 1000 and 0.6 < manifest["test_accuracy"] <= 1.0
    assert manifest["onnx_check"]["max_abs_logit_difference"] <= manifest["onnx_check"]["tolerance"]
    assert not list(built_model.glob("*.pt")) and not list(built_model.glob("*.pkl"))


def test_sentiment_model_refuses_a_folder_that_is_not_a_model(tmp_path, built_model):
    from companion.serving.sentiment_model import SentimentModel

    with pytest.raises(FileNotFoundError, match="not a built sentiment model"):
        SentimentModel(tmp_path)
    model = SentimentModel(built_model)
    with pytest.raises(ValueError):
        model.predict(["   "])
    results = model.predict(["a moving, beautiful film", "a dull, lifeless mess"])
    assert [set(row) for row in results] == [{"label", "positive_probability"}] * 2
    assert all(0 <= row["positive_probability"] <= 1 for row in results)


def test_python_m_companion_serve_serves_the_built_model(built_model):
    from companion.serving.sentiment_model import SentimentModel

    port = free_port()
    with ServerProcess(serve_command(built_model, port), port) as running:
        answer = httpx.post(running.url + "/v1/sentiment", json={"text": "a moving, beautiful film"})
        ready = httpx.get(running.url + "/readyz").json()
    assert answer.status_code == 200
    expected = SentimentModel(built_model).predict(["a moving, beautiful film"])[0]
    assert answer.json()["label"] == expected["label"]
    assert answer.json()["positive_probability"] == pytest.approx(expected["positive_probability"], abs=1e-5)
    assert ready["model"]["test_accuracy"] > 0.6
    assert running.returncode in (0, -15)  # uvicorn re-raises the SIGTERM it handled gracefully


def test_serve_refuses_bad_options():
    result = subprocess.run([sys.executable, "-m", "companion", "serve", "--max-batch-size", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "max_batch_size must be a positive int" in result.stderr


def test_the_load_generator_runs_inside_a_running_event_loop(server):
    # A Jupyter kernel runs an event loop; asyncio.run alone would refuse to start there.
    import asyncio

    from companion.serving.load import run_load

    async def from_a_loop():
        return run_load(server.url, ["good"], concurrency=2, n_requests=10)

    result = asyncio.run(from_a_loop())
    assert (result["requests"], result["ok"]) == (10, 10)


def test_a_program_that_exits_without_stopping_its_server_takes_the_server_with_it():
    # a notebook kernel that is shut down without server.stop(): the atexit hook stops the child
    program = ("import sys; sys.path.insert(0, 'tests'); from serving_fake import fake_server; "
               "server = fake_server(); server.start(); print(server.url, flush=True)")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    url = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0 and url.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/healthz", timeout=2)
