"""A challenger beside the champion: in shadow, or answering a share of the requests (canary).

`{{ cookiecutter.package_name | upper }}_ROLLOUT` chooses. In `shadow`, the champion answers every request, and the
challenger scores the same records afterwards, on a thread of its own: both predictions are
logged, and no answer waits for the challenger. In `canary`, the challenger answers the share
`{{ cookiecutter.package_name | upper }}_CANARY_SHARE` of the requests. Which ones is decided by a hash of the request's
`X-Variant-Key` header (a customer or a session ID, say), so one key meets the same model on
every call, in every worker and every replica; a request without the header is placed by its
request ID. The challenger is loaded once, at start-up, from `{{ cookiecutter.package_name | upper }}_CHALLENGER_URI`.
If it cannot be loaded, or fails on a request, the champion answers, and
`rollout_fallbacks_total` counts it.
"""

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Histogram

from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher, Record
from {{ cookiecutter.package_name }}.serving.model import Model

logger = logging.getLogger(__name__)
VARIANT_HEADER = "X-Variant-Key"
#: Who answered a request (`champion`, `challenger`), or scored it unseen (`shadow`).
Variant = Literal["champion", "challenger", "shadow"]
#: The most records waiting for shadow scoring: past it, shadow work is dropped and counted, so
#: a challenger slower than the traffic never grows the service's memory.
MAX_SHADOW_QUEUED = 10_000


def bucket(key: str) -> float:
    """Where `key` falls in [0, 1): the same in every process and on every machine."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class RolloutMetrics:
    """Requests, latency, fallbacks and dropped shadow work, by variant."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create the metrics in the app's registry."""
        self.requests = Counter(
            "variant_requests",
            "Prediction requests, by the variant that scored them.",
            ["variant"],
            registry=registry,
        )
        self.latency = Histogram(
            "variant_latency_seconds",
            "Time to score a request, by variant (shadow: after the answer was sent).",
            ["variant"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.fallbacks = Counter(
            "rollout_fallbacks",
            "Requests the champion answered because the challenger failed to load or to score.",
            ["reason"],
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "shadow_dropped_records",
            "Records not shadow-scored because too many were already waiting.",
            registry=registry,
        )


class Challenger:
    """The second model, with its own scoring thread, and how it takes part."""

    def __init__(self, model: Model, batcher: MicroBatcher, mode: str, share: float) -> None:
        """Hold a loaded challenger in a rollout `mode`; `share` is a canary's share of requests."""
        self.model, self.batcher, self.mode, self.share = model, batcher, mode, share
        self.queued = 0  # shadow records waiting to be scored
        self.tasks: set[asyncio.Task[None]] = set()  # kept referenced until they finish

    def answers(self, key: str) -> bool:
        """Whether the challenger answers the request with this key (a canary's share)."""
        return self.mode == "canary" and bucket(key) < self.share

    def shadow(
        self,
        rows: list[Record],
        metrics: RolloutMetrics,
        scored: Callable[[list[Record]], Any],
    ) -> None:
        """Score `rows` with the challenger after the answer, then call `scored` with the result."""
        if self.queued + len(rows) > MAX_SHADOW_QUEUED:
            metrics.shadow_dropped.inc(len(rows))
            return
        self.queued += len(rows)
        task = asyncio.create_task(self._shadow(rows, metrics, scored))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _shadow(
        self,
        rows: list[Record],
        metrics: RolloutMetrics,
        scored: Callable[[list[Record]], Any],
    ) -> None:
        try:
            with metrics.latency.labels("shadow").time():
                predictions = await self.batcher.predict(rows)
            metrics.requests.labels("shadow").inc()
            scored(predictions)
        except Exception as error:  # the answer is sent: a failure here is only logged
            metrics.fallbacks.labels("shadow_error").inc()
            logger.warning("shadow scoring failed: %s", error)
        finally:
            self.queued -= len(rows)

    async def close(self, timeout: float = 5.0) -> None:
        """Let shadow work finish (for at most `timeout` seconds), then stop the scoring thread."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=timeout)
        for task in self.tasks:
            task.cancel()
        self.batcher.close()
