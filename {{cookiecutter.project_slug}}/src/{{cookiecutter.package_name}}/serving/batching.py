"""Adaptive micro-batching: single-record requests that arrive together are scored together.

Scoring one record through the pipeline costs nearly as much as scoring fifty: the time goes
to pandas and scikit-learn overhead per call, not per row. So while one call runs, requests
that arrive wait in a queue and are scored in the next call, together. An idle server adds no
wait: a request that finds the queue empty is scored at once. All scoring happens on one
thread of its own, which keeps the event loop free to read the next requests meanwhile.
Hand-written on purpose: it is what makes single records fast, and no library does it.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from threadpoolctl import threadpool_limits

Record = dict[str, Any]
Scorer = Callable[[list[Record]], list[Record]]
Waiting = tuple[Record, "asyncio.Future[Record]"]

#: The most queued single records scored in one call: more would add latency for little gain.
MAX_COALESCED = 64
#: Under load (the previous call ended less than BUSY seconds ago), wait WINDOW seconds before
#: a call, so that requests already on their way join it. An idle server never waits.
BUSY = 0.005
WINDOW = 0.002


class MicroBatcher:
    """Scores records on one thread, coalescing concurrent single-record requests."""

    def __init__(self, score: Scorer, observe: Callable[[int], None]) -> None:
        """Wrap a scoring function; `observe` is told the size of every call."""
        self.score = score
        self.observe = observe
        # One OpenMP thread on the scoring thread: a few rows score faster without its start-up.
        one_thread = partial(threadpool_limits, limits=1)
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="predict", initializer=one_thread)
        # Created on first use, inside the server's event loop (again if the loop changes).
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Waiting] | None = None
        self.worker: asyncio.Task[None] | None = None

    async def predict_one(self, record: Record) -> Record:
        """One record's prediction, scored with whatever else is waiting.

        Raises:
            ValueError: the model cannot score this record.
        """
        loop = asyncio.get_running_loop()
        if self.queue is None or self.loop is not loop:
            self.loop, self.queue = loop, asyncio.Queue()
            self.worker = asyncio.create_task(self._serve_queue(self.queue))
        answer: asyncio.Future[Record] = loop.create_future()
        await self.queue.put((record, answer))
        return await answer

    async def predict_many(self, records: list[Record]) -> list[Record]:
        """A batch request's predictions, in one call of its own.

        Raises:
            ValueError: the model cannot score these records.
        """
        self.observe(len(records))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.score, records)

    async def predict(self, records: list[Record]) -> list[Record]:
        """A request's predictions: one record joins others waiting, a batch is scored alone.

        Raises:
            ValueError: the model cannot score these records.
        """
        if len(records) == 1:
            return [await self.predict_one(records[0])]
        return await self.predict_many(records)

    async def _serve_queue(self, queue: "asyncio.Queue[Waiting]") -> None:
        loop = asyncio.get_running_loop()
        finished = 0.0  # when the previous call ended
        while True:
            waiting = [await queue.get()]
            if loop.time() - finished < BUSY:
                await asyncio.sleep(WINDOW)
            while len(waiting) < MAX_COALESCED and not queue.empty():
                waiting.append(queue.get_nowait())
            self.observe(len(waiting))
            records = [record for record, _ in waiting]
            try:
                results = await loop.run_in_executor(self.executor, self._score_each, records)
            except Exception as error:  # a bug, not bad input: every waiting request gets it
                results = [error] * len(waiting)
            for (_, answer), result in zip(waiting, results, strict=True):
                if answer.done():  # the client went away
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
            finished = loop.time()

    def _score_each(self, records: list[Record]) -> list[Record | Exception]:
        """Score together; if that fails, alone, so a bad record fails only its own request."""
        try:
            return list(self.score(records))
        except ValueError as error:
            if len(records) == 1:
                return [error]
        return [self._score_each([record])[0] for record in records]

    def close(self) -> None:
        """Stop the queue's task and the scoring thread."""
        if self.worker is not None:
            self.worker.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
