"""Dynamic batching: requests that arrive close together run as one model call (book chapter 16).

A request joins the batch being formed; the batch runs when it holds ``max_batch_size``
texts or when ``max_wait_s`` has passed since its first request arrived, whichever comes
first. The model runs in one worker thread, so the event loop keeps accepting requests
while a batch computes, and those requests form the next batch: under load, batches fill
even with ``max_wait_s = 0``. A batch that costs ``c(b) = c_0 + b c_1`` seconds for ``b``
texts serves at most ``b / c(b)`` texts per second, Eq. (16.5); batching pays when the
fixed cost ``c_0`` of a call is large against ``c_1``.

Each caller gets its own answers. If the model raises on a batch of several requests, each
request is run again alone, so only the request that makes the model fail gets the error.
:meth:`DynamicBatcher.close` stops new submissions and finishes every request already
queued (the drain of a graceful shutdown).

The queue is bounded: a submission that would bring more than ``max_queued_texts`` texts into
the queue is refused at once with :class:`QueueFullError`. A server past its capacity cannot
drain its queue (its utilisation, Eq. (16.2), would exceed 1), so waiting requests would only
grow later; refusing the excess early keeps the latency of the accepted ones bounded, about
``max_queued_texts / throughput`` at most, and tells the caller to retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from companion.checks import check_positive_int


class BatcherClosedError(RuntimeError):
    """Raised by :meth:`DynamicBatcher.submit` once :meth:`DynamicBatcher.close` has been called."""


class QueueFullError(RuntimeError):
    """Raised by :meth:`DynamicBatcher.submit` when the queue holds ``max_queued_texts`` texts already."""


@dataclass
class _Pending:
    texts: list[str]
    future: asyncio.Future
    arrived: float = field(default_factory=time.perf_counter)


_STOP = object()


class DynamicBatcher:
    """``await submit(texts)`` -> ``run_batch``'s results for ``texts``, computed in a shared batch.

    ``run_batch(texts) -> list`` must return one result per text, in order. ``on_batch(size,
    seconds)``, if given, is called after every model call (for the metrics). A request with
    more than ``max_batch_size`` texts runs as a batch of its own. ``max_batch_size=1`` turns
    batching off: one request per model call, in arrival order. At most ``max_queued_texts``
    texts wait at any time (the batch being computed is not counted).
    """

    def __init__(self, run_batch: Callable[[list[str]], Sequence], *, max_batch_size: int = 32,
                 max_wait_s: float = 0.005, max_queued_texts: int = 1024,
                 on_batch: Callable[[int, float], None] | None = None):
        if not callable(run_batch):
            raise TypeError(f"run_batch must be callable; got {type(run_batch).__name__}")
        self.max_batch_size = check_positive_int(max_batch_size, "max_batch_size")
        if isinstance(max_wait_s, bool) or not isinstance(max_wait_s, (int, float)) or not 0 <= max_wait_s <= 1:
            raise ValueError(f"max_wait_s must be a number of seconds in [0, 1]; got {max_wait_s!r}")
        self.max_wait_s = float(max_wait_s)
        self.max_queued_texts = check_positive_int(max_queued_texts, "max_queued_texts")
        self.queued_texts = 0
        self._run_batch = run_batch
        self._on_batch = on_batch
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._closed = False
        self.batches_run = 0
        self.texts_run = 0

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called (a shutdown has begun)."""
        return self._closed

    def start(self) -> None:
        """Start the batching task on the running event loop."""
        if self._worker is not None:
            raise RuntimeError("the batcher is already started")
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work(), name="dynamic-batcher")

    async def submit(self, texts: list[str]) -> list:
        """The results for ``texts`` (a non-empty list), once the batch holding them has run."""
        if self._closed or self._queue is None:
            raise BatcherClosedError("the server is shutting down and takes no new requests"
                                     if self._closed else "the batcher is not started")
        if not isinstance(texts, list) or not texts:
            raise ValueError(f"texts must be a non-empty list; got {texts!r}")
        if self.queued_texts + len(texts) > self.max_queued_texts:
            raise QueueFullError(f"the server is over capacity: {self.queued_texts} texts are waiting and the "
                                 f"queue holds at most {self.max_queued_texts}; retry later")
        pending = _Pending(list(texts), asyncio.get_running_loop().create_future())
        self.queued_texts += len(pending.texts)
        self._queue.put_nowait(pending)
        return await pending.future

    async def close(self) -> None:
        """Refuse new requests, finish the queued ones, then stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._queue.put_nowait(_STOP)
            await self._worker
        self._executor.shutdown(wait=True)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        carried = None
        while True:
            first = carried if carried is not None else await self._queue.get()
            carried = None
            if first is _STOP:
                return
            batch, size, stopping = [first], len(first.texts), False
            deadline = first.arrived + self.max_wait_s
            while size < self.max_batch_size:
                try:
                    if self._queue.empty():
                        timeout = deadline - time.perf_counter()
                        if timeout <= 0:
                            break
                        item = await asyncio.wait_for(self._queue.get(), timeout)
                    else:
                        item = self._queue.get_nowait()
                except TimeoutError:
                    break
                if item is _STOP:
                    stopping = True
                    break
                if size + len(item.texts) > self.max_batch_size:
                    carried = item
                    break
                batch.append(item)
                size += len(item.texts)
            await self._run(loop, batch)
            if stopping:
                carried = _STOP

    async def _run(self, loop, batch: list[_Pending]) -> None:
        texts = [text for pending in batch for text in pending.texts]
        self.queued_texts -= len(texts)  # out of the queue, into the model
        try:
            results = await self._call(loop, texts)
        except Exception as error:  # noqa: BLE001 - the model's failure goes to its callers
            if len(batch) == 1:
                _settle(batch[0].future, error=error)
                return
            for pending in batch:  # find which request fails: run each alone
                try:
                    _settle(pending.future, result=await self._call(loop, pending.texts))
                except Exception as own_error:  # noqa: BLE001
                    _settle(pending.future, error=own_error)
            return
        start = 0
        for pending in batch:
            _settle(pending.future, result=results[start : start + len(pending.texts)])
            start += len(pending.texts)

    async def _call(self, loop, texts: list[str]) -> list:
        started = time.perf_counter()
        results = list(await loop.run_in_executor(self._executor, self._run_batch, texts))
        if len(results) != len(texts):
            raise RuntimeError(f"run_batch returned {len(results)} results for {len(texts)} texts")
        self.batches_run += 1
        self.texts_run += len(texts)
        if self._on_batch is not None:
            self._on_batch(len(texts), time.perf_counter() - started)
        return results


def _settle(future: asyncio.Future, *, result=None, error: BaseException | None = None) -> None:
    """Give ``future`` its result or error, unless its caller has gone (the request was cancelled)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
