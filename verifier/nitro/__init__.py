"""AWS Nitro Enclaves: verify an attestation document (COSE_Sign1, ES384) offline."""

from verifier.nitro.verify import verify_nitro

__all__ = ["verify_nitro"]
