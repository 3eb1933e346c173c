"""The CLI tests reuse the enclave tests' real upstream simulator."""

from tests.enclave.conftest import sim

__all__ = ["sim"]
