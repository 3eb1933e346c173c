"""A :class:`TpmDevice` backed by tpm2-pytss (the ``vtpm`` extra): a real TPM or swtpm.

tpm2-pytss is imported when a :class:`TssTpm` is opened, never at import time, so the
package installs and imports without it. TCTI strings are ``name:config``, e.g.
``device:/dev/tpmrm0`` (a guest's resource-managed TPM) or
``swtpm:host=127.0.0.1,port=2321`` (swtpm's TCP server; not ``mssim:``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from attestation.errors import PlatformUnavailable, ProviderError
from attestation.formats.tpm import PcrBank, PcrSelection, PcrValues, Scheme
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT, TPM_RH_OWNER
from attestation.providers.vtpm.device import LoadedKey, QualifyingDataTooLarge

DEFAULT_TCTI = "device:/dev/tpmrm0"
TPM_RC_SIZE = 0x015  # format-one error number for "structure is the wrong size"
_PCR_READ_MAX = 8  # TPM2_PCR_Read returns at most 8 digests (TPML_DIGEST)
_NV_CHUNK_FALLBACK = 512


def _pytss() -> Any:
    try:
        import tpm2_pytss
        import tpm2_pytss.constants
    except ImportError as exc:
        raise PlatformUnavailable(
            f"tpm2-pytss is not installed (pip install 'veritee[vtpm]'): {exc}"
        ) from None
    return tpm2_pytss


def _is_size_error(rc: int) -> bool:
    """A TPM-layer format-one TPM_RC_SIZE, whatever parameter it names."""
    return rc >> 16 == 0 and bool(rc & 0x80) and rc & 0x3F == TPM_RC_SIZE


class TssTpm:
    """One ESAPI connection. Use as a context manager, or call :meth:`close`."""

    def __init__(self, tcti: str = DEFAULT_TCTI) -> None:
        self._t = _pytss()
        name, _, config = tcti.partition(":")
        try:
            self._tcti = self._t.TCTILdr(name, config or None)
            self._esapi = self._t.ESAPI(self._tcti)
        except Exception as exc:  # noqa: BLE001 -- the TSS raises several unrelated types
            raise PlatformUnavailable(f"cannot open TPM via TCTI {tcti!r}: {exc}") from None
        self._nv_chunk = self._property(self._t.constants.TPM2_PT_NV.BUFFER_MAX)

    def __enter__(self) -> TssTpm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._esapi.close()

    @property
    def esapi(self) -> Any:
        """The raw tpm2-pytss ESAPI context, for what this class does not wrap (tests)."""
        return self._esapi

    # -- TpmDevice -----------------------------------------------------------------------

    def nv_read(self, index: int) -> bytes | None:
        if not self._handle_exists(index):
            return None
        t = self._t
        with _tss_errors(f"reading NV index 0x{index:08x}"):
            handle = self._esapi.tr_from_tpmpublic(index)
            public, _ = self._esapi.nv_read_public(handle)
            size = public.nvPublic.dataSize
            attrs = public.nvPublic.attributes
            auth = handle if attrs & t.constants.TPMA_NV.AUTHREAD else t.ESYS_TR.OWNER
            out = bytearray()
            while len(out) < size:
                n = min(self._nv_chunk or _NV_CHUNK_FALLBACK, size - len(out))
                out += bytes(self._esapi.nv_read(handle, n, len(out), auth_handle=auth))
            self._esapi.tr_close(handle)
        return bytes(out)

    def persistent_key(self, handle: int) -> LoadedKey | None:
        if not self._handle_exists(handle):
            return None
        with _tss_errors(f"loading the key at 0x{handle:08x}"):
            tr = self._esapi.tr_from_tpmpublic(handle)
            public, _, _ = self._esapi.read_public(tr)
        return LoadedKey(int(tr), bytes(public.publicArea.marshal()), transient=False)

    def create_primary(self, hierarchy: int, template: bytes) -> LoadedKey:
        t = self._t
        parents = {TPM_RH_ENDORSEMENT: t.ESYS_TR.ENDORSEMENT, TPM_RH_OWNER: t.ESYS_TR.OWNER}
        if hierarchy not in parents:
            raise ProviderError(f"unsupported hierarchy 0x{hierarchy:08x}")
        with _tss_errors("creating the attestation key"):
            area, _ = t.TPMT_PUBLIC.unmarshal(template)
            handle, public, _, _, _ = self._esapi.create_primary(
                t.TPM2B_SENSITIVE_CREATE(),
                in_public=t.TPM2B_PUBLIC(publicArea=area),
                primary_handle=parents[hierarchy],
            )
        return LoadedKey(int(handle), bytes(public.publicArea.marshal()), transient=True)

    def quote(
        self, key: LoadedKey, qualifying_data: bytes, selection: PcrSelection, scheme: Scheme
    ) -> tuple[bytes, bytes]:
        t = self._t
        try:
            sel, _ = t.TPML_PCR_SELECTION.unmarshal(selection.to_bytes())
            sig_scheme, _ = t.TPMT_SIG_SCHEME.unmarshal(scheme.to_bytes())
            attest, signature = self._esapi.quote(
                t.ESYS_TR(key.handle), sel, t.TPM2B_DATA(qualifying_data), sig_scheme
            )
        except t.TSS2_Exception as exc:
            if _is_size_error(int(exc.rc)):
                raise QualifyingDataTooLarge(
                    f"the TPM refused the qualifying data: {exc}"
                ) from None
            raise ProviderError(f"TPM2_Quote failed: {exc}") from None
        marshalled = bytes(attest.marshal())  # TPM2B_ATTEST: a 2-byte size, then TPMS_ATTEST
        return marshalled[2:], bytes(signature.marshal())

    def pcr_read(self, selection: PcrSelection) -> PcrValues:
        t = self._t
        values: list[bytes] = []
        with _tss_errors("reading PCRs"):
            for bank in selection.banks:
                for start in range(0, len(bank.indices), _PCR_READ_MAX):
                    chunk = PcrSelection(
                        (PcrBank(bank.hash_alg, bank.indices[start : start + _PCR_READ_MAX],
                                 bank.size_of_select),)
                    )  # fmt: skip
                    sel, _ = t.TPML_PCR_SELECTION.unmarshal(chunk.to_bytes())
                    _, _, digests = self._esapi.pcr_read(sel)
                    got = [bytes(d) for d in digests]
                    if len(got) != len(chunk.banks[0].indices):
                        raise ProviderError(f"the TPM does not implement all of {chunk}")
                    values.extend(got)
        return PcrValues(selection, tuple(values))

    def flush(self, key: LoadedKey) -> None:
        if key.transient:
            with _tss_errors("flushing the attestation key"):
                self._esapi.flush_context(self._t.ESYS_TR(key.handle))

    # -- provisioning: what a cloud does before the guest boots (used to emulate one) -----

    def nv_define(self, index: int, data: bytes) -> None:
        """(Re)define NV ``index`` as owner-written, readable without a password, and fill it."""
        t = self._t
        nv = t.constants.TPMA_NV
        with _tss_errors(f"defining NV index 0x{index:08x}"):
            if self._handle_exists(index):
                old = self._esapi.tr_from_tpmpublic(index)
                self._esapi.nv_undefine_space(old, auth_handle=t.ESYS_TR.OWNER)
            public = t.TPM2B_NV_PUBLIC(
                nvPublic=t.TPMS_NV_PUBLIC(
                    nvIndex=index,
                    nameAlg=t.TPM2_ALG.SHA256,
                    attributes=nv.OWNERWRITE | nv.OWNERREAD | nv.AUTHREAD | nv.NO_DA,
                    dataSize=len(data),
                )
            )
            handle = self._esapi.nv_define_space(None, public, auth_handle=t.ESYS_TR.OWNER)
            chunk = self._nv_chunk or _NV_CHUNK_FALLBACK
            for offset in range(0, len(data), chunk):
                self._esapi.nv_write(
                    handle, data[offset : offset + chunk], offset, auth_handle=t.ESYS_TR.OWNER
                )
            self._esapi.tr_close(handle)

    def persist(self, key: LoadedKey, handle: int) -> LoadedKey:
        """TPM2_EvictControl: persist ``key`` at ``handle``, replacing what was there."""
        t = self._t
        with _tss_errors(f"persisting a key at 0x{handle:08x}"):
            if self._handle_exists(handle):
                old = self._esapi.tr_from_tpmpublic(handle)
                self._esapi.evict_control(t.ESYS_TR.OWNER, old, handle)
            tr = self._esapi.evict_control(t.ESYS_TR.OWNER, t.ESYS_TR(key.handle), handle)
        return LoadedKey(int(tr), key.public, transient=False)

    # -- helpers -------------------------------------------------------------------------

    def _handle_exists(self, handle: int) -> bool:
        """Ask the TPM's handle list, which (unlike a failed lookup) logs nothing."""
        with _tss_errors(f"listing handles at 0x{handle:08x}"):
            _, data = self._esapi.get_capability(self._t.TPM2_CAP.HANDLES, handle, 1)
        handles = data.data.handles
        return handles.count >= 1 and int(handles.handle[0]) == handle

    def _property(self, prop: int) -> int:
        with _tss_errors("reading a TPM property"):
            _, data = self._esapi.get_capability(self._t.TPM2_CAP.TPM_PROPERTIES, prop, 1)
        props = data.data.tpmProperties
        if props.count >= 1 and int(props.tpmProperty[0].property) == int(prop):
            return int(props.tpmProperty[0].value)
        return 0


@contextmanager
def _tss_errors(doing: str) -> Iterator[None]:
    """Turn any TSS failure into a ProviderError that says what was being done."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:  # noqa: BLE001 -- the TSS raises several unrelated types
        raise ProviderError(f"{doing}: {exc}") from None
