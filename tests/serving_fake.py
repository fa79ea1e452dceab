"""A stand-in model behind the real application, for the server tests (chapter 16).

``uvicorn --factory tests.serving_fake:create_fake_app`` serves it. The model is
deterministic and fast, so that the tests are about HTTP, batching and faults, not about
MiniLM: a text containing "good" is positive, one containing "FAIL" makes the model raise.
Environment variables slow it down: FAKE_LOAD_SECONDS (the load), FAKE_BATCH_SECONDS (each call);
FAKE_MAX_BATCH, FAKE_MAX_WAIT_MS and FAKE_MAX_QUEUED set the batcher; FAKE_GENERATOR_DIR, a folder
written by ``companion.serving.text_generator.save_text_generator``, adds ``POST /v1/generate``;
FAKE_CHINESE_DIR, a built Chinese model, adds ``"language": "zh"``.
"""

import os
import sys
import time
from pathlib import Path

from companion.serving.app import ServingConfig, create_app
from companion.serving.server import ServerProcess, free_port
from companion.serving.validation import Limits


class FakeModel:
    manifest = {"name": "fake", "labels": ["negative", "positive"]}

    def __init__(self, batch_seconds: float):
        self.batch_seconds = batch_seconds

    def predict(self, texts):
        time.sleep(self.batch_seconds)
        if any("FAIL" in text for text in texts):
            raise ValueError("the fake model refuses texts that contain FAIL")
        return [{"label": "positive" if "good" in text else "negative", "batch_size": len(texts)} for text in texts]


def load_fake_model():
    time.sleep(float(os.environ.get("FAKE_LOAD_SECONDS", "0")))
    return FakeModel(float(os.environ.get("FAKE_BATCH_SECONDS", "0.001")))


def create_fake_app():
    config = ServingConfig(max_batch_size=int(os.environ.get("FAKE_MAX_BATCH", "8")),
                           max_wait_ms=float(os.environ.get("FAKE_MAX_WAIT_MS", "20")),
                           max_queued_texts=int(os.environ.get("FAKE_MAX_QUEUED", "1024")),
                           limits=Limits(max_text_chars=100, max_texts=4, max_body_bytes=2048))
    generator_dir = os.environ.get("FAKE_GENERATOR_DIR")
    load_generator = None
    if generator_dir:
        from companion.serving.text_generator import TextGenerator

        load_generator = lambda: TextGenerator(generator_dir)  # noqa: E731
    chinese_dir = os.environ.get("FAKE_CHINESE_DIR")
    more = None
    if chinese_dir:
        from companion.serving.encoder_sentiment import EncoderSentimentModel

        more = {"zh": lambda: EncoderSentimentModel(chinese_dir)}
    return create_app(load_fake_model, config, description="fake model", load_generator=load_generator,
                      more_languages=more)


def fake_server(**env) -> ServerProcess:
    """A :class:`ServerProcess` of :func:`create_fake_app` on a free port; ``env`` adds FAKE_* settings."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.serving_fake:create_fake_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    root = Path(__file__).resolve().parents[1]
    return ServerProcess(command, port, ready_timeout_s=60, env={**os.environ, "PYTHONPATH": str(root), **env})
