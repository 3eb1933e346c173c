"""veritee enclave: the in-enclave OpenAI-compatible proxy that signs every exchange.

``create_app(settings)`` (:mod:`enclave.app`) builds the ASGI app; ``load_settings``
(:mod:`enclave.settings`) reads the TOML configuration. Importing this package does
nothing else: no key is made and no file is read until ``create_app`` runs.
"""
