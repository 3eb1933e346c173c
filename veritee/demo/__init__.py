"""``veritee demo``: the whole path on one machine, with simulated hardware and upstream.

:mod:`veritee.demo.stack` starts the upstream simulator, enclaves (simulated SEV-SNP) and the
gateway; :mod:`veritee.demo.client` sends requests through the gateway with the official
``openai`` SDK and verifies, as a careful client would, every enclave's evidence and every
receipt.
"""
