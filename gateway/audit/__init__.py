"""Audit bundles from the gateway's store (:mod:`gateway.audit.export`)."""
