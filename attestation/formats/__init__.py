"""Byte layouts of attestation evidence: parse and build, no I/O, no crypto checks."""
