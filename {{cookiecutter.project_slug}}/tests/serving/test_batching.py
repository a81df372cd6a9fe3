"""Micro-batching: concurrent single records share model calls, and each gets its own answer."""

import asyncio
import threading
import time
from typing import Any

import pytest
from threadpoolctl import threadpool_info

from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher

Record = dict[str, Any]


class SlowScorer:
    """Doubles each record's `x`, slowly, and remembers how many records each call held."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.calls: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, records: list[Record]) -> list[Record]:
        self.calls.append(len(records))
        self.threads.add(threading.current_thread().name)
        if any(record.get("bad") for record in records):
            raise ValueError("cannot score a bad record")
        if any(record.get("bug") for record in records):
            raise RuntimeError("a bug")
        time.sleep(self.seconds)
        return [{"prediction": record["x"] * 2} for record in records]


async def send(batcher: MicroBatcher, records: list[Record]) -> list[Any]:
    """Send single records at the same time; each answer, or the exception it raised."""
    return await asyncio.gather(
        *(batcher.predict_one(record) for record in records), return_exceptions=True
    )


def test_concurrent_records_share_calls_and_get_their_own_answers() -> None:
    scorer = SlowScorer()
    sizes: list[int] = []
    batcher = MicroBatcher(scorer, observe=sizes.append)
    answers = asyncio.run(send(batcher, [{"x": x} for x in range(20)]))
    batcher.close()
    assert answers == [{"prediction": x * 2} for x in range(20)]
    assert sum(scorer.calls) == 20
    assert len(scorer.calls) < 20, "nothing was coalesced"
    assert sizes == scorer.calls
    assert len(scorer.threads) == 1
    assert next(iter(scorer.threads)).startswith("predict")


def test_a_record_alone_is_scored_at_once() -> None:
    scorer = SlowScorer(seconds=0)
    batcher = MicroBatcher(scorer, observe=lambda size: None)
    assert asyncio.run(send(batcher, [{"x": 1}])) == [{"prediction": 2}]
    # A new event loop (a restarted server, a new test client) gets a queue of its own.
    assert asyncio.run(send(batcher, [{"x": 2}])) == [{"prediction": 4}]
    batcher.close()
    assert scorer.calls == [1, 1]


def test_a_record_the_model_cannot_score_fails_only_its_own_request() -> None:
    batcher = MicroBatcher(SlowScorer(seconds=0.01), observe=lambda size: None)
    records: list[Record] = [{"x": 1}, {"x": 2, "bad": True}, {"x": 3}]
    answers = asyncio.run(send(batcher, records))
    batcher.close()
    assert answers[0] == {"prediction": 2}
    assert isinstance(answers[1], ValueError)
    assert answers[2] == {"prediction": 6}


def test_a_bug_reaches_every_request_that_shared_the_call() -> None:
    batcher = MicroBatcher(SlowScorer(seconds=0), observe=lambda size: None)
    answers = asyncio.run(send(batcher, [{"x": 1, "bug": True}]))
    batcher.close()
    assert isinstance(answers[0], RuntimeError)


def test_a_batch_request_is_one_call_on_the_scoring_thread_with_one_openmp_thread() -> None:
    seen: list[list[dict[str, Any]]] = []

    def score(records: list[Record]) -> list[Record]:
        seen.append(threadpool_info())
        return [{"prediction": 0}] * len(records)

    sizes: list[int] = []
    batcher = MicroBatcher(score, observe=sizes.append)
    assert len(asyncio.run(batcher.predict_many([{"x": 1}] * 7))) == 7
    batcher.close()
    assert sizes == [7]
    openmp = [pool for pool in seen[0] if pool["user_api"] == "openmp"]
    assert openmp, "scikit-learn loads OpenMP"
    assert all(pool["num_threads"] == 1 for pool in openmp)


@pytest.mark.parametrize("size", [1, 3])
def test_the_service_counts_records_per_model_call(
    client: Any, records: list[Record], size: int
) -> None:
    if size == 1:
        client.post("/predict", json=records[0])
    else:
        client.post("/predict/batch", json={"records": records[:size]})
    text = client.get("/metrics").text
    assert "prediction_batch_size_count 1.0" in text
    assert f"prediction_batch_size_sum {float(size)}" in text
