"""Building the collateral source a command or service was configured with.

- ``offline``: a directory (:class:`DirectoryCollateral`) or a JSON bundle file;
- ``fetch_cache``: fetch from Intel PCS and AMD KDS when online, caching in that directory.

Both may be given: the offline source answers first. Neither: ``None``, meaning only the
collateral carried inside the evidence is used (missing collateral is "could not check").
"""

from __future__ import annotations

from pathlib import Path

from verifier.collateral.bundle import load_bundle_file
from verifier.collateral.directory import DirectoryCollateral
from verifier.collateral.fetcher import PcsKdsFetcher
from verifier.collateral.source import CollateralSource, FirstAvailable


def open_collateral(
    offline: Path | None = None, *, fetch_cache: Path | None = None
) -> CollateralSource | None:
    sources: list[CollateralSource] = []
    if offline is not None:
        sources.append(
            DirectoryCollateral(offline) if offline.is_dir() else load_bundle_file(offline)
        )
    if fetch_cache is not None:
        sources.append(PcsKdsFetcher(cache_dir=fetch_cache))
    if not sources:
        return None
    return sources[0] if len(sources) == 1 else FirstAvailable(*sources)
