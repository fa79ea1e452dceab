"""The server's Prometheus metrics, written with the maintained ``prometheus_client`` (book chapter 16).

Each application gets its own registry, so two servers in one process (as in the tests)
never mix their counts. ``GET /metrics`` answers :meth:`ServerMetrics.exposition` in the
Prometheus text format:

* ``http_requests_total{path, status}``: requests answered, by path and status code;
* ``http_request_duration_seconds{path}``: a histogram of the time from receiving a
  request to sending its answer (its buckets give p50/p95/p99 estimates);
* ``model_batch_size`` and ``model_batch_duration_seconds``: how many texts each model
  call held and how long it took, the two quantities of Eq. (16.5);
* ``model_ready``: 1 once the model is loaded.
* ``generated_tokens_total`` and ``time_to_first_token_seconds``: the text generator's tokens streamed,
  and how long each generate request waited for its first one.
"""

from __future__ import annotations

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class ServerMetrics:
    """The counters and histograms of one server, in a registry of their own."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "Requests answered, by path and status code.",
                                ["path", "status"], registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Time from request to answer.", ["path"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("model_batch_size", "Texts per model call.", buckets=BATCH_BUCKETS,
                                    registry=self.registry)
        self.batch_seconds = Histogram("model_batch_duration_seconds", "Seconds per model call.",
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.ready = Gauge("model_ready", "1 once the model is loaded, else 0.", registry=self.registry)
        self.generated_tokens = Counter("generated_tokens", "Tokens sent by POST /v1/generate.",
                                        registry=self.registry)
        self.first_token = Histogram("time_to_first_token_seconds", "From a generate request to its first token.",
                                     buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        self.requests.labels(path=path, status=str(status)).inc()
        self.latency.labels(path=path).observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """``(body, content type)`` of the Prometheus text format."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def parse_exposition(text: str) -> dict[str, float]:
    """Sample name with labels -> value, from the text format (what a scraper reads)."""
    from prometheus_client.parser import text_string_to_metric_families

    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values
