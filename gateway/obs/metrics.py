"""Prometheus metrics, one registry per app (``GET /metrics``).

Counters and histograms are updated on the request path (a few microseconds each);
per-enclave gauges are read from the pool when Prometheus scrapes, so they cost the
request path nothing. Labels never carry prompt or response content, nor tenant keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _PoolCollector(Collector):
    """Per-enclave gauges, taken from a snapshot function at scrape time."""

    def __init__(self, snapshot: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "veritee_gateway_enclave_state",
            "1 for the state each enclave is in",
            labels=["enclave", "state"],
        )
        outstanding = GaugeMetricFamily(
            "veritee_gateway_enclave_outstanding_requests",
            "Requests in flight per enclave",
            labels=["enclave"],
        )
        ewma = GaugeMetricFamily(
            "veritee_gateway_enclave_latency_ewma_seconds",
            "Decaying average time to first byte per enclave",
            labels=["enclave"],
        )
        verified = GaugeMetricFamily(
            "veritee_gateway_enclave_last_verified_timestamp_seconds",
            "When each enclave's evidence last verified",
            labels=["enclave"],
        )
        for member in self._snapshot():
            name = member["name"]
            for value in member["states"]:
                state.add_metric([name, value], 1.0 if value == member["state"] else 0.0)
            outstanding.add_metric([name], member["outstanding"])
            if member["ewma"] is not None:
                ewma.add_metric([name], member["ewma"])
            if member["verified_at_ms"] is not None:
                verified.add_metric([name], member["verified_at_ms"] / 1000)
        yield from (state, outstanding, ewma, verified)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "veritee_gateway_requests",
            "Chat completion requests answered, by model, status code and streaming",
            ["model", "code", "stream"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "veritee_gateway_request_duration_seconds",
            "Time from request to the end of the response",
            ["stream"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft_seconds = Histogram(
            "veritee_gateway_time_to_first_token_seconds",
            "Time from request to the first streamed bytes sent to the client",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "veritee_gateway_tokens",
            "Tokens reported by signed receipts, by model and kind",
            ["model", "kind"],
            registry=r,
        )
        self.verification_failures = Counter(
            "veritee_gateway_verification_failures",
            "Failed verifications: enclave evidence (attestation) or receipts",
            ["kind", "check"],
            registry=r,
        )
        self.retries = Counter(
            "veritee_gateway_retries",
            "Attempts repeated on an enclave (or another one), by reason",
            ["reason"],
            registry=r,
        )
        self.receipts = Counter(
            "veritee_gateway_receipts_stored",
            "Receipts stored, by verdict and source (response or log)",
            ["verdict", "source"],
            registry=r,
        )
        self.missing_receipts = Counter(
            "veritee_gateway_missing_receipts",
            "Responses that ended without the receipt they should carry",
            registry=r,
        )
        self.rate_limited = Counter(
            "veritee_gateway_rate_limited",
            "Requests refused by a tenant limit",
            registry=r,
        )
        self.store_commit_seconds = Histogram(
            "veritee_gateway_store_commit_seconds",
            "Time per store commit (one batch of writes)",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.store_batch_size = Histogram(
            "veritee_gateway_store_batch_size",
            "Writes per store commit",
            buckets=BATCH_BUCKETS,
            registry=r,
        )

    def watch_pool(self, snapshot: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self.registry.register(_PoolCollector(snapshot))

    def observe_commit(self, batch: int, seconds: float) -> None:
        """Called from the store's writer (possibly another thread: prometheus is thread-safe)."""
        self.store_commit_seconds.observe(seconds)
        self.store_batch_size.observe(batch)

    def render(self) -> bytes:
        return generate_latest(self.registry)
