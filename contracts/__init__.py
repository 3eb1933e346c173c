"""veritee: contracts."""
