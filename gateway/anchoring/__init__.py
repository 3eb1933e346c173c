"""Transparency on the gateway's side: anchoring checkpoints, registering enclaves, proofs.

- :mod:`gateway.anchoring.publisher`: submits the store's checkpoints to the anchor contract,
  in order, exactly once, across restarts (``veritee anchor run``);
- :mod:`gateway.anchoring.registrar`: registers admitted enclaves after verifying their
  evidence again (``veritee anchor register``);
- :mod:`gateway.anchoring.proofs`: ``GET /v1/receipts/{id}/proof``;
- :mod:`gateway.anchoring.chain`: the connection and the paying key.

``docs/transparency.md`` describes the whole. Nothing here imports ``enclave``.
"""
