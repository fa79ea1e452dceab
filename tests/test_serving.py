"""Chapter 16's pieces without a server: request validation, dynamic batching, metrics, the load helpers."""

import asyncio
import json
import time

import pytest

from companion.serving.batching import BatcherClosedError, DynamicBatcher, QueueFullError
from companion.serving.load import check_local_url, latency_summary, run_load
from companion.serving.validation import Limits, RequestError, parse_sentiment_body

LIMITS = Limits(max_text_chars=10, max_texts=3, max_body_bytes=200)


def refused(body, limits=LIMITS):
    with pytest.raises(RequestError) as caught:
        parse_sentiment_body(body if isinstance(body, bytes) else json.dumps(body).encode(), limits)
    return caught.value.status, caught.value.message


# --- validation --------------------------------------------------------------------------------


def test_one_text_and_a_batch_are_accepted():
    assert parse_sentiment_body(b'{"text": "fine"}', LIMITS) == (["fine"], False, "en")
    assert parse_sentiment_body(b'{"texts": ["a", "b c"]}', LIMITS) == (["a", "b c"], True, "en")
    assert parse_sentiment_body('{"text": "很好", "language": "zh"}'.encode(), LIMITS, ("en", "zh")) == (
        ["很好"], False, "zh")


def test_a_language_the_server_does_not_hold_is_refused():
    with pytest.raises(RequestError) as caught:
        parse_sentiment_body(b'{"text": "bon", "language": "fr"}', LIMITS, ("en", "zh"))
    assert caught.value.status == 422
    assert caught.value.message == ('"language" must be one of [\'en\', \'zh\'] (the models this server holds); '
                                    "got str 'fr'")
    with pytest.raises(RequestError, match="one of \\['en'\\]"):
        parse_sentiment_body(b'{"text": "good", "language": "zh"}', LIMITS)


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "must be JSON"),
    (b"\xff\xfe", 400, "must be JSON"),
    ([1, 2], 422, "JSON object"),
    ({}, 422, "got neither"),
    ({"text": "a", "texts": ["b"]}, 422, "got both"),
    ({"txt": "a"}, 422, "unknown field(s) ['txt']"),
    ({"text": 5}, 422, "must be a string; got int 5"),
    ({"text": None}, 422, "got null"),
    ({"text": "   "}, 422, "at least one non-space character"),
    ({"text": "x" * 11}, 422, "at most 10 characters; got 11"),
    ({"texts": "abc"}, 422, '"texts" must be a list of strings; got str'),
    ({"texts": []}, 422, "1 to 3 strings; got 0"),
    ({"texts": ["a"] * 4}, 422, "1 to 3 strings; got 4"),
    ({"texts": ["a", 7]}, 422, '"texts"[1] must be a string; got int 7'),
    ({"texts": ["a", ""]}, 422, '"texts"[1] must contain'),
])
def test_bad_bodies_get_a_4xx_that_says_what_was_expected(body, status, words):
    got_status, message = refused(body)
    assert got_status == status
    assert words in message


def test_an_oversized_body_is_413_before_it_is_parsed():
    status, message = refused(b"x" * 201)  # not even JSON: the size is checked first
    assert status == 413 and "at most 200 bytes; got 201" in message


def test_limits_must_be_positive_ints():
    with pytest.raises(ValueError, match="max_texts"):
        Limits(max_texts=0)
    with pytest.raises(TypeError, match="max_text_chars"):
        Limits(max_text_chars=1.5)


# --- dynamic batching --------------------------------------------------------------------------


class RecordingModel:
    """Upper-cases texts, sleeping per call; remembers the size of each call; fails on 'bad'."""

    def __init__(self, seconds=0.02):
        self.seconds = seconds
        self.calls = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        time.sleep(self.seconds)
        if "bad" in texts:
            raise ValueError("bad text")
        return [text.upper() for text in texts]


def run_async(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_requests_share_model_calls_and_each_gets_its_own_answer():
    model = RecordingModel()

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=8, max_wait_s=0.05)
        batcher.start()
        answers = await asyncio.gather(*(batcher.submit([f"t{i}"]) for i in range(20)))
        await batcher.close()
        return answers

    answers = run_async(scenario())
    assert answers == [[f"T{i}"] for i in range(20)]
    assert [len(call) for call in model.calls] == [8, 8, 4]


def test_a_multi_text_request_stays_together_and_the_batch_never_exceeds_its_size():
    model = RecordingModel()

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=4, max_wait_s=0.05)
        batcher.start()
        answers = await asyncio.gather(batcher.submit(["a", "b", "c"]), batcher.submit(["d", "e"]),
                                       batcher.submit(["f"]), batcher.submit(["g", "h", "i", "j", "k"]))
        await batcher.close()
        return answers

    answers = run_async(scenario())
    assert answers == [["A", "B", "C"], ["D", "E"], ["F"], ["G", "H", "I", "J", "K"]]
    # d, e would overflow the first batch of 4, so they start the second; f joins them; the 5-text
    # request is larger than any batch and runs alone.
    assert model.calls == [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i", "j", "k"]]


def test_batch_size_one_runs_requests_one_at_a_time_in_arrival_order():
    model = RecordingModel(seconds=0.001)

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=1, max_wait_s=0.05)
        batcher.start()
        await asyncio.gather(*(batcher.submit([str(i)]) for i in range(5)))
        await batcher.close()

    run_async(scenario())
    assert model.calls == [["0"], ["1"], ["2"], ["3"], ["4"]]


def test_a_full_queue_refuses_at_once_and_frees_its_places_as_batches_run():
    model = RecordingModel(seconds=0.02)

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=1, max_wait_s=0.0, max_queued_texts=2)
        batcher.start()
        # the five submissions run before the worker takes any: two fit, three are refused
        outcomes = await asyncio.gather(*(batcher.submit([str(i)]) for i in range(5)), return_exceptions=True)
        assert batcher.queued_texts == 0
        later = await batcher.submit(["again"])  # the queue drained: accepted again
        await batcher.close()
        return outcomes, later

    outcomes, later = run_async(scenario())
    assert outcomes[:2] == [["0"], ["1"]] and later == ["AGAIN"]
    refused = [outcome for outcome in outcomes[2:] if isinstance(outcome, QueueFullError)]
    assert len(refused) == 3 and "2 texts are waiting" in str(refused[0]) and "at most 2" in str(refused[0])
    assert model.calls == [["0"], ["1"], ["again"]]


def test_a_lone_request_waits_at_most_max_wait():
    model = RecordingModel(seconds=0.0)

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=32, max_wait_s=0.05)
        batcher.start()
        started = time.perf_counter()
        await batcher.submit(["x"])
        waited = time.perf_counter() - started
        await batcher.close()
        return waited

    waited = run_async(scenario())
    assert 0.04 <= waited < 0.5


def test_a_failing_request_fails_alone_and_the_others_in_its_batch_succeed():
    model = RecordingModel(seconds=0.005)

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=8, max_wait_s=0.05)
        batcher.start()
        answers = await asyncio.gather(batcher.submit(["ok"]), batcher.submit(["bad"]), batcher.submit(["fine"]),
                                       return_exceptions=True)
        later = await batcher.submit(["after"])
        await batcher.close()
        return answers, later

    (first, second, third), later = run_async(scenario())
    assert first == ["OK"] and third == ["FINE"] and later == ["AFTER"]
    assert isinstance(second, ValueError) and str(second) == "bad text"
    assert model.calls[0] == ["ok", "bad", "fine"]  # the shared call failed, then each ran alone


def test_close_answers_every_queued_request_then_refuses_new_ones():
    model = RecordingModel(seconds=0.02)

    async def scenario():
        batcher = DynamicBatcher(model, max_batch_size=2, max_wait_s=0.0)
        batcher.start()
        queued = [asyncio.ensure_future(batcher.submit([f"q{i}"])) for i in range(6)]
        await asyncio.sleep(0)  # the submissions reach the queue
        await batcher.close()
        with pytest.raises(BatcherClosedError, match="shutting down"):
            await batcher.submit(["late"])
        return [task.result() for task in queued]

    assert run_async(scenario()) == [[f"Q{i}"] for i in range(6)]


def test_a_model_that_returns_the_wrong_number_of_results_is_an_error():
    async def scenario():
        batcher = DynamicBatcher(lambda texts: ["only one"], max_batch_size=1)
        batcher.start()
        try:
            await batcher.submit(["a", "b"])
        finally:
            await batcher.close()

    with pytest.raises(RuntimeError, match="returned 1 results for 2 texts"):
        run_async(scenario())


@pytest.mark.parametrize("kwargs, error", [
    ({"max_batch_size": 0}, ValueError), ({"max_batch_size": 2.0}, TypeError),
    ({"max_wait_s": -0.1}, ValueError), ({"max_wait_s": 2}, ValueError), ({"max_wait_s": "5"}, ValueError),
    ({"max_queued_texts": 0}, ValueError), ({"max_queued_texts": 1.5}, TypeError),
])
def test_bad_batcher_settings_are_refused(kwargs, error):
    with pytest.raises(error):
        DynamicBatcher(lambda texts: texts, **kwargs)


def test_the_batcher_needs_a_callable_and_a_non_empty_list():
    with pytest.raises(TypeError, match="callable"):
        DynamicBatcher("model")

    async def scenario():
        batcher = DynamicBatcher(lambda texts: texts)
        with pytest.raises(BatcherClosedError, match="not started"):
            await batcher.submit(["a"])
        batcher.start()
        with pytest.raises(ValueError, match="non-empty list"):
            await batcher.submit([])
        await batcher.close()

    run_async(scenario())


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_are_written_in_the_prometheus_text_format_and_read_back():
    from companion.serving.metrics import ServerMetrics, parse_exposition

    metrics = ServerMetrics()
    metrics.observe_request("/v1/sentiment", 200, 0.003)
    metrics.observe_request("/v1/sentiment", 422, 0.001)
    metrics.observe_request("/v1/sentiment", 200, 0.2)
    metrics.observe_batch(5, 0.01)
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    values = parse_exposition(body.decode())
    assert values['http_requests_total{path="/v1/sentiment",status="200"}'] == 2
    assert values['http_requests_total{path="/v1/sentiment",status="422"}'] == 1
    assert values['http_request_duration_seconds_bucket{le="0.005",path="/v1/sentiment"}'] == 2
    assert values['http_request_duration_seconds_count{path="/v1/sentiment"}'] == 3
    assert values["model_batch_size_sum"] == 5
    assert values["model_ready"] == 0


def test_two_servers_keep_separate_counts():
    from companion.serving.metrics import ServerMetrics, parse_exposition

    first, second = ServerMetrics(), ServerMetrics()
    first.observe_batch(3, 0.01)
    assert parse_exposition(second.exposition()[0].decode())["model_batch_size_count"] == 0


# --- load generator helpers --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1/", "http://[::1]:80"])
def test_local_urls_are_accepted(url):
    assert check_local_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://example.com", "https://127.0.0.1:8000", "http://10.0.0.1:80",
                                 "http://127.0.0.1.example.com"])
def test_the_load_generator_refuses_other_machines(url):
    with pytest.raises(ValueError, match="only targets"):
        check_local_url(url)


def test_run_load_checks_its_bounds_before_sending_anything():
    with pytest.raises(ValueError, match="only targets"):
        run_load("http://example.com", ["a"], concurrency=1, n_requests=1)
    with pytest.raises(ValueError, match="n_requests"):
        run_load("http://127.0.0.1:9", ["a"], concurrency=1, n_requests=0)
    with pytest.raises(ValueError, match="time_limit_s"):
        run_load("http://127.0.0.1:9", ["a"], concurrency=1, n_requests=1, time_limit_s=0)


def test_latency_summary_is_in_milliseconds():
    summary = latency_summary([0.001 * i for i in range(1, 101)])
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p99_ms"] == pytest.approx(99.01)
    assert summary["max_ms"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="non-empty"):
        latency_summary([])


def test_run_open_load_checks_its_bounds_before_sending_anything():
    from companion.serving.load import run_open_load

    with pytest.raises(ValueError, match="only targets"):
        run_open_load("http://192.168.1.1", ["a"], rate_rps=10, n_requests=1)
    with pytest.raises(ValueError, match="rate_rps"):
        run_open_load("http://127.0.0.1:9", ["a"], rate_rps=0, n_requests=1)
    with pytest.raises(ValueError, match="max_in_flight"):
        run_open_load("http://127.0.0.1:9", ["a"], rate_rps=5, n_requests=1, max_in_flight=0)


# --- POST /v1/generate: the body --------------------------------------------------------------------------


def test_a_generate_body_gets_its_defaults_and_its_room_in_the_context():
    from companion.serving.validation import GenerateRequest, parse_generate_body

    assert parse_generate_body(b'{"prompt": "The film"}', max_len=128) == GenerateRequest("The film", 64)
    assert parse_generate_body(b'{"prompt": "The film"}', max_len=40).max_new_tokens == 32  # all the room left
    asked = parse_generate_body(json.dumps({"prompt": "a", "max_new_tokens": 5, "temperature": 0.8, "top_k": 3,
                                            "seed": 7, "stream": False}).encode(), max_len=16)
    assert asked == GenerateRequest("a", 5, 0.8, 3, 7, False)


@pytest.mark.parametrize("body, status, words", [
    (b"{prompt", 400, "must be JSON"),
    (b'["a"]', 422, "must be a JSON object"),
    (b'{"text": "a"}', 422, "unknown field(s) ['text']"),
    (b'{"max_new_tokens": 3}', 422, 'must have a "prompt"'),
    (b'{"prompt": ""}', 422, "non-empty string; got str ''"),
    (b'{"prompt": 5}', 422, "non-empty string; got int 5"),
    (json.dumps({"prompt": "x" * 16}).encode(), 422, "shorter than the model's context of 16 characters; got 16"),
    (b'{"prompt": "abc", "max_new_tokens": 14}', 422, "integer from 1 to 13; got int 14"),
    (b'{"prompt": "abc", "max_new_tokens": true}', 422, "integer from 1 to 13; got bool True"),
    (b'{"prompt": "abc", "temperature": -1}', 422, "from 0 (greedy) to 5; got int -1"),
    (b'{"prompt": "abc", "top_k": 0}', 422, '"top_k" must be an integer of at least 1; got int 0'),
    (b'{"prompt": "abc", "seed": -2}', 422, '"seed" must be an integer from 0'),
    (b'{"prompt": "abc", "stream": "yes"}', 422, "true or false; got str 'yes'"),
])
def test_bad_generate_bodies_get_a_4xx_that_says_what_was_expected(body, status, words):
    from companion.serving.validation import parse_generate_body

    with pytest.raises(RequestError) as caught:
        parse_generate_body(body, max_len=16)
    assert caught.value.status == status and words in caught.value.message, caught.value.message
