"""Two gateway replicas sharing a real Redis (limits) and a real PostgreSQL (store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway import stack
from tests.gateway.stack import MODEL, InThread
from tests.helpers.services import Service
from veritee.upstream_sim import ThreadedSim


@pytest.fixture
def replicas(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, redis_service: Service, pg_dsn: str
) -> Iterator[tuple[list[InThread], dict[str, stack.Tenant]]]:
    enclave = stack.start_enclave(sim, amd_state)
    config = stack.gateway_config(
        tmp_path, [("a", enclave.url)], amd_state,
        store={"url": pg_dsn}, ratelimit={"redis_url": redis_service.url, "window_seconds": 3600},
    )  # fmt: skip
    tenants = {
        "limited": stack.add_tenant(config, "limited", rpm=3),
        "ops": stack.add_tenant(config, "ops", admin=True),
    }
    gateways = [stack.start_gateway(config), stack.start_gateway(config)]
    for gateway in gateways:
        stack.wait_admitted(gateway.url, tenants["ops"].headers, ["a"])
    yield gateways, tenants
    for gateway in gateways:
        gateway.stop()
    enclave.stop()


def test_one_limit_and_one_store_across_replicas(
    replicas: tuple[list[InThread], dict[str, stack.Tenant]],
) -> None:
    gateways, tenants = replicas
    body = {"model": MODEL, "messages": [{"role": "user", "content": "shared"}]}
    answers = [
        httpx.post(
            gateways[i % 2].url + "/v1/chat/completions",
            json=body,
            headers=tenants["limited"].headers,
            timeout=30,
        )
        for i in range(6)
    ]
    # rpm 3 per hour: three requests in all, whichever replica they reach.
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers[:3]] == ["2", "1", "0"]
    assert (
        answers[3].headers["retry-after"]
        and answers[4].json()["error"]["code"] == "rate_limit_exceeded"
    )

    served = {a.headers["x-veritee-request-id"] for a in answers[:3]}
    for gateway in gateways:  # both replicas read the one store
        listing = httpx.get(gateway.url + "/v1/receipts?tenant=limited",
                            headers=tenants["ops"].headers).json()  # fmt: skip
        assert {e["request_id"] for e in listing["data"]} == served
        assert {e["verdict"] for e in listing["data"]} == {"verified"}
    own = httpx.get(gateways[0].url + "/v1/receipts", headers=tenants["limited"].headers).json()
    assert len(own["data"]) == 3
