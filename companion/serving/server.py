"""The real server: the application under uvicorn, and a process wrapper to start and stop it (book chapter 16).

:func:`serve` runs :func:`companion.serving.app.create_app` under uvicorn, bound to
127.0.0.1 unless told otherwise, so that nothing outside the machine reaches it by
accident. uvicorn's graceful shutdown on SIGINT or SIGTERM stops accepting connections,
waits for the requests in flight, then runs the application's shutdown, which drains the
batcher. :class:`ServerProcess` starts a server in a child process on a free port and waits
until ``/readyz`` answers 200; the tests, the notebook and the benchmark use it.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from companion.checks import check_positive_int
from companion.serving.app import ServingConfig, create_app

LOOPBACK = "127.0.0.1"


def serve(model_dir, *, host: str = LOOPBACK, port: int = 8000, config: ServingConfig = ServingConfig(),
          threads: int = 1, log_level: str = "warning", generator_dir=None, chinese_dir=None) -> None:
    """Serve the sentiment model built in ``model_dir`` until SIGINT or SIGTERM.

    ``generator_dir`` adds chapter 12's GPT at ``POST /v1/generate``; ``chinese_dir`` adds the
    Chinese sentiment model (``"language": "zh"``).
    """
    import uvicorn

    from companion.serving.encoder_sentiment import EncoderSentimentModel
    from companion.serving.sentiment_model import SentimentModel
    from companion.serving.text_generator import TextGenerator

    threads = check_positive_int(threads, "threads")
    model_dir = Path(model_dir)
    load_generator = None if generator_dir is None else (lambda: TextGenerator(generator_dir))
    more = None if chinese_dir is None else {"zh": lambda: EncoderSentimentModel(chinese_dir)}
    app = create_app(lambda: SentimentModel(model_dir, threads=threads), config,
                     description="English sentiment model (MiniLM, int8 ONNX)", load_generator=load_generator,
                     more_languages=more)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no one listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def serve_command(model_dir, port: int, *, max_batch_size: int = 32, max_wait_ms: float = 5.0,
                  threads: int = 1, generator_dir=None, chinese_dir=None) -> list[str]:
    """The ``python -m companion serve`` command line for a :class:`ServerProcess`."""
    command = [sys.executable, "-m", "companion", "serve", "--model-dir", str(model_dir), "--port", str(port),
               "--max-batch-size", str(max_batch_size), "--max-wait-ms", str(max_wait_ms), "--threads", str(threads)]
    command += [] if generator_dir is None else ["--generator", "--generator-dir", str(generator_dir)]
    return command + ([] if chinese_dir is None else ["--chinese", "--chinese-dir", str(chinese_dir)])


class ServerProcess:
    """``with ServerProcess(command, port) as server:`` a server in a child process, ready at ``server.url``.

    ``command`` starts a server listening on 127.0.0.1:``port``. Entering waits until
    ``GET /readyz`` answers 200 (or raises with the end of the server's log if it exits or
    ``ready_timeout_s`` passes); leaving sends SIGTERM and waits for the graceful shutdown.
    """

    def __init__(self, command: list[str], port: int, *, ready_timeout_s: float = 120.0, env: dict | None = None):
        if not isinstance(command, list) or not all(isinstance(part, str) for part in command) or not command:
            raise TypeError(f"command must be a non-empty list of strings; got {command!r}")
        self.command = command
        self.port = check_positive_int(port, "port")
        self.url = f"http://{LOOPBACK}:{port}"
        self.ready_timeout_s = ready_timeout_s
        self.env = env
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self) -> None:
        import httpx

        self._log = tempfile.TemporaryFile(mode="w+b")
        env = dict(os.environ if self.env is None else self.env)
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        atexit.register(self.stop)  # a notebook kernel that exits without stop() leaves no server behind
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode} before it was "
                                   f"ready; its log ends:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"the server was not ready after {self.ready_timeout_s} s; its log ends:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """Ask for a graceful shutdown (SIGTERM) and wait for it; returns the exit status."""
        if self.process is None or self.returncode is not None:
            return self.returncode
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            if os.name == "posix":
                self.process.send_signal(signal.SIGTERM)
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        return self.returncode

    def log_tail(self, chars: int = 4000) -> str:
        """The end of what the server wrote to stdout and stderr."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")[-chars:]
