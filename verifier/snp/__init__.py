"""SEV-SNP verification: AMD certificate chain, report signature, TCB and chip bindings."""

from verifier.snp.verify import verify_snp

__all__ = ["verify_snp"]
