"""A challenger beside the champion: in shadow, or answering a share of the requests (canary).

`{{ cookiecutter.package_name | upper }}_ROLLOUT` chooses. In `shadow`, the champion answers every request, and the
challenger scores the same records afterwards, a quarter second's requests in one call on a
thread of its own: both predictions are logged, and no answer waits for the challenger. In `canary`, the challenger answers the share
`{{ cookiecutter.package_name | upper }}_CANARY_SHARE` of the requests. Which ones is decided by a hash of the request's
`X-Variant-Key` header (a customer or a session ID, say), so one key meets the same model on
every call, in every worker and every replica; a request without the header is placed by its
request ID. The challenger is loaded once, at start-up, from `{{ cookiecutter.package_name | upper }}_CHALLENGER_URI`.
If it cannot be loaded, or fails on a request, the champion answers, and
`rollout_fallbacks_total` counts it.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram

from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher, Record
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.settings import Settings

logger = logging.getLogger(__name__)
VARIANT_HEADER = "X-Variant-Key"
#: Who answered a request (`champion`, `challenger`), or scored it unseen (`shadow`).
Variant = Literal["champion", "challenger", "shadow"]
#: The most records waiting for shadow scoring: past it, shadow work is dropped and counted, so
#: a challenger slower than the traffic never grows the service's memory.
MAX_SHADOW_QUEUED = 10_000
#: How often the records queued for shadow scoring are scored, together.
SHADOW_SECONDS = 0.25
#: Called with the challenger's predictions for a request's records.
Scored = Callable[[list[Record]], object]


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
            "Time to score a request, by variant (shadow: a call for a quarter second's requests).",
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

    def __init__(
        self, model: Model, batcher: MicroBatcher, settings: Settings, metrics: RolloutMetrics
    ) -> None:
        """Hold a loaded challenger in the rollout the settings choose."""
        self.model, self.batcher, self.metrics = model, batcher, metrics
        self.mode, self.share = settings.rollout, settings.canary_share
        self.queued = 0  # shadow records waiting to be scored
        self.pending: list[tuple[list[Record], Scored]] = []  # what the next shadow call scores
        self.worker: asyncio.Task[None] | None = None
        self.closing = asyncio.Event()

    def answers(self, key: str) -> bool:
        """Whether the challenger answers the request with this key (a canary's share)."""
        return self.mode == "canary" and bucket(key) < self.share

    def shadow(self, rows: list[Record], scored: Scored) -> None:
        """Queue `rows` for the challenger; `scored` is called with its predictions later.

        Every SHADOW_SECONDS, what was queued is scored in one call: a call costs far more than
        a row, so shadowing many requests together costs the champion's cores little.
        """
        if self.queued + len(rows) > MAX_SHADOW_QUEUED:
            self.metrics.shadow_dropped.inc(len(rows))
            return
        self.queued += len(rows)
        self.pending.append((rows, scored))
        if self.worker is None:
            self.worker = asyncio.create_task(self._shadow_every(SHADOW_SECONDS))

    async def _shadow_every(self, seconds: float) -> None:
        """Score what is queued every `seconds`, and once more on closing."""
        while not self.closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), seconds)
            await self._score_pending()

    async def _score_pending(self) -> None:
        """Score every queued request in one call, and hand each its predictions."""
        waiting, self.pending = self.pending, []
        rows = [row for request, _ in waiting for row in request]
        if not rows:
            return
        try:
            with self.metrics.latency.labels("shadow").time():
                predictions = await self.batcher.predict_many(rows)
        except Exception as error:  # the answers are sent: a failure here is only counted
            self.metrics.fallbacks.labels("shadow_error").inc(len(waiting))
            logger.warning("shadow scoring failed: %s", error)
        else:
            start = 0
            for request, scored in waiting:
                scored(predictions[start : start + len(request)])
                start += len(request)
            self.metrics.requests.labels("shadow").inc(len(waiting))
        finally:
            self.queued -= len(rows)

    async def close(self, timeout: float = 5.0) -> None:
        """Score what shadow work is queued (for at most `timeout` seconds), then stop."""
        self.closing.set()
        if self.worker is not None:
            try:
                await asyncio.wait_for(self.worker, timeout)
            except TimeoutError:
                logger.warning("shadow scoring still running after %s s: the rest is lost", timeout)
        self.batcher.close()
