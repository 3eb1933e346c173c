"""Offline verification of attestation evidence, receipts, logs and anchors.

Imports attestation *formats* only, never a provider that touches a device.
"""
