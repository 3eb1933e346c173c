"""The upstream HTTP seam: a small transport interface, the HTTP/1.1 client, and a fake.

The proxy only ever calls :meth:`Transport.post` and reads the :class:`Reply` it gets;
``enclave.upstream.fake.FakeTransport`` implements the same interface in memory.
"""

from enclave.upstream.transport import Reply, Transport, UpstreamCut

__all__ = ["Reply", "Transport", "UpstreamCut"]
