"""veritee: gateway."""
