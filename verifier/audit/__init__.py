"""Audit bundles: the layout, reading and writing them, and verifying one offline.

``veritee audit export`` (on the gateway's side) writes a bundle; ``veritee verify bundle``
reads one with :func:`read_bundle` and checks it with :func:`verify_bundle`, which returns a
:class:`BundleReport` (rendered as HTML by :func:`verifier.audit.html.render_html`).
"""

from verifier.audit.layout import BUNDLE_TYPE, Manifest
from verifier.audit.report import BundleReport, Failure, ReceiptRow
from verifier.audit.tarball import RawBundle, read_bundle, write_bundle
from verifier.audit.verify import verify_bundle

__all__ = [
    "BUNDLE_TYPE",
    "BundleReport",
    "Failure",
    "Manifest",
    "RawBundle",
    "ReceiptRow",
    "read_bundle",
    "verify_bundle",
    "write_bundle",
]
