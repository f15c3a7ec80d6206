"""The self-contained HTML report: inline CSS and SVG only, no external URL, script or font."""

import html
import json

from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, RISK_ACCEPTED, UNKNOWN, cite

COLORS = {PASS: "#2e7d32", FAIL: "#c62828", UNKNOWN: "#9e9e9e", NOT_APPLICABLE: "#e0e0e0", RISK_ACCEPTED: "#ef6c00"}
MARKS = {"observed": "", "designed, not observed": "d", "not assessed": "m", "excluded": "x"}
_CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#212121;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;width:100%;font-size:12px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5}code,.mono{font-family:DejaVu Sans Mono,monospace;font-size:11px;word-break:break-all}
.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}.unknown{color:#616161;font-weight:bold}
.not-applicable{color:#9e9e9e}.risk-accepted{color:#ef6c00;font-weight:bold}.verdict{font-size:18px;padding:8px 12px;display:inline-block;border-radius:4px;color:#fff}
.cards span{display:inline-block;margin-right:18px}details{margin:4px 0}summary{cursor:pointer}
pre{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:8px;font-size:12px}
"""


def esc(value) -> str:
    if isinstance(value, (dict, list, tuple, bool)) or value is None:
        value = json.dumps(value, sort_keys=True, default=str)
    return html.escape(str(value))


def heatmap_svg(controls: list[dict]) -> str:
    """One cell per Annex A control, a row per theme (A.5 ... A.8), coloured by status."""
    cell, gap, label_w = 34, 3, 110
    rows: dict[str, list[dict]] = {}
    for row in controls:
        rows.setdefault(row["control"].rsplit(".", 1)[0], []).append(row)
    per_line = 19
    lines = []
    for prefix, items in rows.items():
        for start in range(0, len(items), per_line):
            lines.append((prefix if start == 0 else "", items[start:start + per_line], items[0]["theme"]))
    width = label_w + per_line * (cell + gap) + 10
    height = len(lines) * (cell + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="status of the 93 ISO/IEC 27001:2022 Annex A controls">']
    for index, (prefix, items, theme) in enumerate(lines):
        y = index * (cell + gap)
        if prefix:
            parts.append(f'<text x="0" y="{y + 21}" font-size="11">{esc(prefix)} {esc(theme)}</text>')
        for column, row in enumerate(items):
            x = label_w + column * (cell + gap)
            text_color = "#fff" if row["status"] in (PASS, FAIL, UNKNOWN, RISK_ACCEPTED) else "#424242"
            mark = MARKS[row["implementation"]]
            parts.append(
                f'<a href="#{esc(row["control"])}"><rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="3" '
                f'fill="{COLORS[row["status"]]}"><title>{esc(row["control"])} {esc(row["title"])}: {esc(row["status"])} '
                f'({esc(row["implementation"])})</title></rect>'
                f'<text x="{x + cell / 2}" y="{y + 15}" font-size="9" text-anchor="middle" fill="{text_color}">'
                f'{esc(row["control"].split(".", 1)[1])}</text>'
                f'<text x="{x + cell / 2}" y="{y + 28}" font-size="9" text-anchor="middle" fill="{text_color}">'
                f'{esc(mark)}</text></a>')
    y = len(lines) * (cell + gap) + 18
    x = 0
    for status, color in COLORS.items():
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 16}" y="{y}" font-size="11">{status}</text>')
        x += 105
    parts.append(f'<text x="{x}" y="{y}" font-size="11">d designed only; m not assessed; x excluded</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_svg(history: list[dict]) -> str:
    """Stacked bars of control statuses per run, oldest first (previous reports plus this one)."""
    if not history:
        return "<p>No previous reports given (--previous): no trend yet.</p>"
    bar, gap, chart_h, top = 28, 14, 160, 10
    width = 60 + len(history) * (bar + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{chart_h + 60}" role="img" '
             f'aria-label="trend of control statuses across reports">',
             f'<line x1="40" y1="{top + chart_h}" x2="{width}" y2="{top + chart_h}" stroke="#999"/>']
    for index, run in enumerate(history):
        counts = run["controls"]
        total = sum(counts.values()) or 1
        x, y = 50 + index * (bar + gap), top + chart_h
        for status in (PASS, RISK_ACCEPTED, FAIL, UNKNOWN, NOT_APPLICABLE):
            h = chart_h * counts.get(status, 0) / total
            y -= h
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" fill="{COLORS[status]}">'
                         f'<title>{esc(run["started_at"])}: {counts.get(status, 0)} {status}</title></rect>')
        parts.append(f'<text x="{x + bar / 2}" y="{top + chart_h + 14}" font-size="9" text-anchor="middle">'
                     f'{esc(run["started_at"][5:10])}</text>'
                     f'<text x="{x + bar / 2}" y="{top + chart_h + 26}" font-size="9" text-anchor="middle">'
                     f'{counts.get(FAIL, 0)} fail</text>')
    parts.append(f'<text x="0" y="{top + 10}" font-size="10">93</text><text x="0" y="{top + chart_h}" font-size="10">0</text>')
    parts.append("</svg>")
    return "".join(parts)


def coverage_svg(coverage: dict) -> str:
    """One bar of the 93 controls: observed (runtime or host evidence), designed only (static), manual, excluded."""
    parts_spec = (("observed", "runtime or host evidence", "#2e7d32"),
                  ("designed_only", "static evidence only (designed, not observed)", "#90caf9"),
                  ("manual", "not assessed by this run (manual)", "#bdbdbd"),
                  ("excluded", "excluded (not applicable)", "#eeeeee"))
    width, height = 900, 30
    total = coverage["total"] or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 10}" height="{height + 30 + 18 * len(parts_spec)}" '
             f'role="img" aria-label="coverage of the 93 controls by kind of evidence">']
    x = 0.0
    for key, label, color in parts_spec:
        w = width * coverage[key] / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{color}">'
                     f'<title>{esc(label)}: {coverage[key]}</title></rect>')
        x += w
    for index, (key, label, color) in enumerate(parts_spec):
        y = height + 20 + 18 * index
        parts.append(f'<rect x="0" y="{y - 10}" width="12" height="12" fill="{color}" stroke="#999"/>'
                     f'<text x="18" y="{y}" font-size="12">{esc(label)}: {coverage[key]} of {coverage["total"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _status(status: str) -> str:
    return f'<span class="{esc(status)}">{esc(status)}</span>'


def _evidence_table(items: list[dict]) -> str:
    rows = ["<table><tr><th>subject</th><th>check</th><th>expected</th><th>actual</th><th>status</th>"
            "<th>collected</th><th>evidence id and sha256</th></tr>"]
    for i in items:
        rows.append(f"<tr><td class=mono>{esc(i['subject'])}</td><td>{esc(i['check'])}</td><td class=mono>{esc(i['expected'])}</td>"
                    f"<td class=mono>{esc(i['actual'])}</td><td>{_status(i['status'])}</td><td>{esc(i['collected_at'])}</td>"
                    f"<td class=mono title='{esc(i['sha256'])}'>{esc(cite(i))}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def render(report: dict, dataflow_svg: str, policies: dict[str, str]) -> str:
    """The whole report as one HTML document.

    + report: the redacted report data
    + dataflow_svg: inline SVG of the data-flow diagram
    + policies: policy slug -> generated Markdown draft
    """
    summary, run = report["summary"], report["run"]
    verdict_color = {"clean": COLORS[PASS], "drift": COLORS[FAIL], "risk-accepted": COLORS[RISK_ACCEPTED]}.get(
        summary["verdict"], "#616161")
    by_key = {i["key"]: i for i in report["evidence"]}
    out = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
           f"<title>ISO/IEC 27001:2022 audit report {esc(run['started_at'])}</title><style>{_CSS}</style></head><body>",
           "<h1>ISO/IEC 27001:2022 compliance and drift report</h1>",
           f'<p><span class=verdict style="background:{verdict_color}">{esc(summary["verdict"])} '
           f'(exit {summary["exit_code"]})</span></p>',
           f"<p class=cards><span>run <code>{esc(run['id'])}</code></span><span>started {esc(run['started_at'])}</span>"
           f"<span>finished {esc(run['finished_at'])}</span><span>schema {esc(report['schema_version'])}</span></p>",
           "<p class=cards>" + "".join(f"<span>{_status(s)} checks: {n}</span>" for s, n in summary["evidence"].items()) + "</p>",
           "<p class=cards>" + "".join(f"<span>{_status(s)} controls: {n}</span>" for s, n in summary["controls"].items()) + "</p>"]
    if report["errors"]:
        out.append("<h2>Errors</h2><ul>" + "".join(f"<li>{esc(e)}</li>" for e in report["errors"]) + "</ul>")
    out.append("<h2>Status of the 93 Annex A controls</h2>" + heatmap_svg(report["controls"]))
    coverage = summary["coverage"]
    out.append(f"<h2 id=coverage>Coverage: {coverage['observed']} controls observed, {coverage['designed_only']} "
               f"designed only, {coverage['manual']} manual</h2>" + coverage_svg(coverage))
    designed = [r for r in report["controls"] if r["implementation"] == "designed, not observed"]
    out.append(f"<h3>Designed, not observed ({len(designed)}): only the policy gate's judgement of a rendered program</h3>")
    out.append("<ul>" + "".join(f"<li><a href='#{esc(r['control'])}'>{esc(r['control'])}</a> {esc(r['title'])}: "
                                f"{_status(r['status'])}</li>" for r in designed) + "</ul>" if designed else "<p>None.</p>")
    out.append(f"<h2>Not applicable ({len(summary['not_applicable'])}), with the justification</h2>")
    out.append("<ul>" + "".join(f"<li>{esc(n['control'])}: {esc(n['justification'])}</li>"
                                for n in summary["not_applicable"]) + "</ul>" if summary["not_applicable"] else "<p>None.</p>")
    out.append(f"<h2>Waivers ({len(summary['waivers'])}): accepted risks, with owner and expiry</h2>")
    if summary["waivers"]:
        out.append("<table><tr><th>source</th><th>matches</th><th>owner</th><th>expires</th><th>reason</th>"
                   "<th>covers</th></tr>" + "".join(
                       f"<tr><td>{esc(w['source'])}</td><td class=mono>{esc(w['match'])}</td><td>{esc(w['owner'])}</td>"
                       f"<td>{esc(w['expires'])}{' (expired: not applied)' if w['expired'] else ''}</td>"
                       f"<td>{esc(w['reason'])}</td><td class=mono>{esc(', '.join(w['applied_to']))}</td></tr>"
                       for w in summary["waivers"]) + "</table>")
    else:
        out.append("<p>None.</p>")
    out.append("<h2>Trend</h2>" + trend_svg(report["history"]))
    comparison = report.get("comparison")
    if comparison:
        out.append(f"<h2>Compared with run {esc(comparison['previous_run'])} ({esc(comparison['previous_started_at'])})</h2>")
        for title in ("newly_failed", "fixed", "still_failing"):
            keys = comparison[title]
            out.append(f"<h3>{esc(title.replace('_', ' '))}: {len(keys)}</h3>")
            if keys:
                out.append("<ul>" + "".join(f"<li><code>{esc(k)}</code></li>" for k in keys) + "</ul>")
    drifted = [i for i in report["evidence"] if i["status"] == FAIL]
    out.append(f"<h2>Drift and violations ({len(drifted)})</h2>")
    out.append(_drift_table(drifted) if drifted else "<p>None.</p>")
    unknown = [i for i in report["evidence"] if i["status"] == UNKNOWN]
    out.append(f"<h2>Unknown: evidence that could not be collected ({len(unknown)})</h2>")
    out.append(_evidence_table(unknown) if unknown else "<p>None.</p>")
    out.append("<h2>Controls and evidence</h2>")
    for row in report["controls"]:
        items = [by_key[k] for k in row["evidence"]]
        out.append(f'<details id="{esc(row["control"])}"{" open" if row["status"] == FAIL else ""}><summary>'
                   f'<b>{esc(row["control"])}</b> {esc(row["title"])}: {_status(row["status"])} '
                   f'({esc(row["implementation"])}, {len(items)} checks)</summary>'
                   f'<p>{esc(row["justification"])}</p>{_evidence_table(items) if items else ""}</details>')
    out.append("<h2>Statement of Applicability</h2><table><tr><th>control</th><th>title</th><th>applicable</th>"
               "<th>basis</th><th>status</th><th>claim and evidence</th></tr>")
    for row in report["controls"]:
        out.append(f"<tr><td>{esc(row['control'])}</td><td>{esc(row['title'])}</td><td>{'yes' if row['applicable'] else 'no'}</td>"
                   f"<td>{esc(row['implementation'])}</td><td>{_status(row['status'])}</td><td>{esc(row['justification'])}</td></tr>")
    out.append("</table>")
    out.append("<h2>Risk treatment (seed 000 §2)</h2><table><tr><th>risk</th><th>impact</th><th>measures</th>"
               "<th>controls</th><th>status</th></tr>")
    for risk in report["risks"]:
        controls = ", ".join(f'<a href="#{esc(c["control"])}">{esc(c["control"])}</a> {_status(c["status"])}'
                             for c in risk["controls"])
        measures = "".join(f"<li>{esc(m['measure'])}: {esc(m['claim'])}</li>" for m in risk["measures"])
        out.append(f"<tr><td>{esc(risk['id'])}: {esc(risk['risk'])}</td><td>{esc(risk['impact'])}</td>"
                   f"<td><ul>{measures}</ul></td><td>{controls}</td><td>{_status(risk['status'])}</td></tr>")
    out.append("</table>")
    out.append("<h2>Asset inventory</h2><table><tr><th>asset</th><th>kind</th><th>source</th><th>observed</th>"
               "<th>attributes</th></tr>")
    for asset in report["assets"]:
        out.append(f"<tr><td>{esc(asset['name'])}</td><td>{esc(asset['kind'])}</td><td>{esc(asset['source'])}</td>"
                   f"<td>{esc(asset.get('observed', ''))}</td>"
                   f"<td class=mono>{esc(asset['attributes'])}</td></tr>")
    out.append("</table>")
    out.append("<h2>Data flows</h2>" + dataflow_svg)
    out.append("<table><tr><th>from</th><th>to</th><th>protection</th><th>derived from</th></tr>" + "".join(
        f"<tr><td>{esc(f['from'])}</td><td>{esc(f['to'])}</td><td>{esc(f['label'])}</td><td>{esc(f['basis'])}</td></tr>"
        for f in report["flows"]) + "</table>")
    out.append("<h2>Policy drafts (parameters read from the baseline)</h2>")
    for slug, text in policies.items():
        out.append(f"<details><summary>{esc(slug)}</summary><pre>{esc(text)}</pre></details>")
    out.append(f"<h2>Run options</h2><pre>{esc(json.dumps(run['options'], indent=1, sort_keys=True))}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def _drift_table(items: list[dict]) -> str:
    rows = ["<table><tr><th>subject</th><th>attribute</th><th>expected</th><th>actual</th><th>controls</th>"
            "<th>collected</th><th>evidence id and sha256</th></tr>"]
    for i in items:
        rows.append(f"<tr><td class=mono>{esc(i['subject'])}</td><td>{esc(i['check'])}</td><td class=mono>{esc(i['expected'])}</td>"
                    f"<td class=mono>{esc(i['actual'])}</td><td>{esc(', '.join(i['controls']))}</td><td>{esc(i['collected_at'])}</td>"
                    f"<td class=mono>{esc(cite(i))}</td></tr>")
    rows.append("</table>")
    return "".join(rows)
