"""The audit report as one self-contained HTML page: no script, no external resource.

Every value that comes from the bundle (receipt fields, model names, reasons that quote
them) is escaped with :func:`html.escape`, attribute quotes included, so a hostile bundle
cannot inject markup into the report. The page shows the verdict and summary, every
failure with what it means, the enclaves, and the verdict for each transcript (receipt).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from verifier.audit.report import BundleReport, EnclaveVerdict, Failure, ReceiptRow

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:78rem;color:#1b1f24;
padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;font-size:1.1rem}
.ok{background:#dff3e4;color:#0b5a23}.bad{background:#fbe2e2;color:#8a1111}
.warn{background:#fff4d6;color:#6b4e00}table{border-collapse:collapse;width:100%;
margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;
vertical-align:top}th{background:#f6f8fa}code{font-family:ui-monospace,monospace;
font-size:12px;word-break:break-all}td.no{color:#8a1111;font-weight:600}
td.yes{color:#0b5a23}.muted{color:#57606a}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object, css: str = "", code: bool = False) -> str:
    text = f"<code>{_e(value)}</code>" if code else _e(value)
    return f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>"


def _failures(title: str, failures: list[Failure]) -> str:
    if not failures:
        return ""
    rows = (
        [_cell(f.check, code=True), _cell(f.subject), _cell(f.reason), _cell(f.explanation)]
        for f in failures
    )
    return f"<h2>{_e(title)} ({len(failures)})</h2>" + _table(
        ["check", "what", "reason", "what it means"], rows
    )


def _enclave_row(e: EnclaveVerdict) -> list[str]:
    verdict = _cell("verified" if e.ok else "FAILED", "yes" if e.ok else "no")
    detail = _cell("; ".join([e.detail, *e.warnings]))
    return [_cell(e.signer, code=True), _cell(e.enclave), _cell(e.platform), verdict, detail]


def _receipt_row(r: ReceiptRow) -> list[str]:
    verdict = "verified" if r.ok else "FAILED: " + "; ".join(r.problems)
    return [
        _cell(r.line),
        _cell(r.receipt_id, code=True),
        _cell(r.signer, code=True),
        _cell(r.seq),
        _cell(_when(r.time_ms)),
        _cell(r.model),
        _cell(r.status),
        _cell(verdict, "yes" if r.ok else "no"),
        _cell(r.inclusion),
    ]


def render_html(report: BundleReport, *, title: str = "veritee audit report") -> str:
    summary = report.summary()
    m = report.manifest
    if report.failures:
        verdict = f'<p class="verdict bad">FAILED: {len(report.failures)} problem(s) found</p>'
    elif report.unchecked:
        verdict = '<p class="verdict warn">COULD NOT CHECK everything (see below)</p>'
    else:
        verdict = '<p class="verdict ok">VERIFIED: every check passed</p>'
    facts = [
        ("window", f"{_when(m.from_ms)} to {_when(m.to_ms)}"),
        ("tenant", m.tenant or "all tenants"),
        ("exported", _when(m.created_ms)),
        ("policy", report.policy_source),
        ("receipts verified", f"{summary['receipts_ok']} of {summary['receipts']}"),
        ("enclaves verified", f"{summary['enclaves_ok']} of {summary['enclaves']}"),
        ("checkpoints", f"{summary['checkpoints']} ({summary['anchored_checkpoints']} anchored)"),
        (
            "chain",
            "not checked (offline)"
            if report.chain is None
            else f"anchor {report.chain['anchor']} on chain {report.chain['chain_id']}, "
            f"block {report.chain['block']}",
        ),
    ]
    facts += [(f"receipts {state}", str(n)) for state, n in summary["inclusion"].items()]
    parts = [
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>",
        verdict,
        "<h2>Summary</h2>",
        _table(["", ""], ([_cell(k), _cell(v)] for k, v in facts)),
        _failures("Failures", report.failures),
        _failures("Could not check", report.unchecked),
    ]
    if report.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{_e(n)}</li>" for n in report.notes]
        parts.append("</ul>")
    parts.append("<h2>Enclaves</h2>")
    parts.append(
        _table(
            ["signing key", "enclave", "platform", "verdict", "detail"],
            (_enclave_row(e) for e in report.enclaves),
        )
    )
    parts.append(f"<h2>Transcripts ({len(report.receipts)})</h2>")
    parts.append(
        _table(
            ["line", "receipt", "signer", "seq", "time", "model", "status", "verdict", "inclusion"],
            (_receipt_row(r) for r in report.receipts),
        )
    )
    parts.append('<p class="muted">Generated by veritee verify bundle.</p></body></html>')
    return "".join(parts)
