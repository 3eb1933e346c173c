"""The gateway: the untrusted router in front of the enclaves (``docs/gateway.md``).

``create_app(settings)`` in :mod:`gateway.app` builds it. Inside:

- :mod:`gateway.settings`, :mod:`gateway.config`: frozen settings, read once from TOML;
- :mod:`gateway.pool`: the enclaves, admission by verification (``admission``), states and
  failure accounting (``pool``, ``member``), balancing (``balancer``), the background
  monitor (``monitor``) and the copy of enclave logs into the store (``logsync``);
- :mod:`gateway.proxy`: a request's way through: ``forward`` (attempts, retries, failover),
  ``relay`` and ``stream_tap`` (streams), ``ingest`` (receipt checks, storing);
- :mod:`gateway.store`: receipts, checkpoints and API keys in SQLite, PostgreSQL or memory;
- :mod:`gateway.tenants`: API keys and rate limits (in memory or through Redis);
- :mod:`gateway.api`: the HTTP endpoints; :mod:`gateway.obs`: metrics and JSON logs;
- :mod:`gateway.transport` (the seam towards enclaves), :mod:`gateway.h1_transport` (the
  default client), :mod:`gateway.aiohttp_transport`, :mod:`gateway.fake_transport`.
"""
