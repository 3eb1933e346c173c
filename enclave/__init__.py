"""veritee: enclave."""
