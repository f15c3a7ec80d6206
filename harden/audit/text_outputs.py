"""Markdown summary, JUnit XML (one test case per check), the SoA, risk and asset tables as Markdown/CSV."""

import csv
import io
from xml.etree import ElementTree as ET

from harden.audit.evidence import FAIL, NOT_APPLICABLE, RISK_ACCEPTED, STATUSES, UNKNOWN


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(report: dict) -> str:
    s, run = report["summary"], report["run"]
    lines = [f"# Audit {run['started_at']}: {s['verdict']} (exit {s['exit_code']})", "",
             f"Run `{run['id']}`, schema {report['schema_version']}.", "",
             "| | " + " | ".join(STATUSES) + " |", "|---" * (len(STATUSES) + 1) + "|",
             "| checks | " + " | ".join(str(s["evidence"].get(k, 0)) for k in STATUSES) + " |",
             "| controls (of 93) | " + " | ".join(str(s["controls"].get(k, 0)) for k in STATUSES) + " |", ""]
    cov = s["coverage"]
    lines += ["## Coverage", "", f"- controls with runtime or host evidence (observed): {cov['observed']}",
              f"- controls with static evidence only (designed, not observed: the gate on a rendered program): "
              f"{cov['designed_only']}", f"- controls not assessed by this run (manual): {cov['manual']}",
              f"- controls excluded as not applicable: {cov['excluded']}", ""]
    if s["not_applicable"]:
        lines += ["## Not applicable (justified)", ""]
        lines += [f"- {n['control']}: {_cell(n['justification'])}" for n in s["not_applicable"]]
        lines.append("")
    lines += [f"## Waivers ({len(s['waivers'])})", ""]
    lines += [f"- {w['source']} `{_cell(w['match'])}`: owner {_cell(w['owner'])}, expires {w['expires']}"
              f"{' (EXPIRED: not applied)' if w['expired'] else ''}; {_cell(w['reason'])}; covers "
              f"{len(w['applied_to'])}" for w in s["waivers"]]
    accepted = [i for i in report["evidence"] if i["status"] == RISK_ACCEPTED]
    lines += ["", f"## Risk accepted ({len(accepted)})", ""]
    lines += [f"- {i['subject']} {i['check']}: {_cell(i['detail'])}" for i in accepted]
    lines.append("")
    drifted = [i for i in report["evidence"] if i["status"] == FAIL]
    lines += [f"## Drift and violations ({len(drifted)})", ""]
    if drifted:
        lines += ["| subject | attribute | expected | actual | controls |", "|---|---|---|---|---|"]
        lines += [f"| {_cell(i['subject'])} | {_cell(i['check'])} | `{_cell(i['expected'])}` | `{_cell(i['actual'])}` | "
                  f"{', '.join(i['controls'])} |" for i in drifted]
    unknown = [i for i in report["evidence"] if i["status"] == UNKNOWN]
    lines += ["", f"## Unknown ({len(unknown)})", ""]
    lines += [f"- {i['subject']} {i['check']}: {_cell(i['actual'])}" for i in unknown]
    comparison = report.get("comparison")
    if comparison:
        lines += ["", f"## Compared with {comparison['previous_run']}", "",
                  f"- newly failed: {len(comparison['newly_failed'])}", f"- fixed: {len(comparison['fixed'])}",
                  f"- still failing: {len(comparison['still_failing'])}"]
        lines += [f"  - newly failed `{k}`" for k in comparison["newly_failed"]]
        lines += [f"  - fixed `{k}`" for k in comparison["fixed"]]
    if report["errors"]:
        lines += ["", "## Errors", ""] + [f"- {_cell(e)}" for e in report["errors"]]
    return "\n".join(lines) + "\n"


def soa_markdown(report: dict) -> str:
    lines = ["# Statement of Applicability (ISO/IEC 27001:2022 Annex A)", "",
             f"Generated from the baseline, the rule catalog and the evidence of run `{report['run']['id']}` "
             f"({report['run']['started_at']}).", "",
             "Status: pass only when every check of the control passed; *observed* rests on runtime or host evidence, "
             "*designed, not observed* only on the policy gate's judgement of a rendered program.", "",
             "| control | title | applicable | basis | status | claim and evidence |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['control']} | {_cell(r['title'])} | {'yes' if r['applicable'] else 'no'} | {r['implementation']} | "
              f"{r['status']} | {_cell(r['justification'])} |" for r in report["controls"]]
    return "\n".join(lines) + "\n"


def soa_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["control", "title", "theme", "applicable", "basis", "status", "checks", "claim"])
    for r in report["controls"]:
        writer.writerow([r["control"], r["title"], r["theme"], r["applicable"], r["implementation"], r["status"],
                         len(r["evidence"]), r["justification"]])
    return buffer.getvalue()


def risks_markdown(report: dict) -> str:
    lines = ["# Risk treatment plan (seed 000 §2)", "",
             "A measure counts only where this run holds passing evidence of it (cited by id and hash); else it is planned.", "",
             "| risk | impact | measure | measure status and evidence | controls (status) | risk status |",
             "|---|---|---|---|---|---|"]
    for r in report["risks"]:
        controls = ", ".join(f"{c['control']} ({c['status']})" for c in r["controls"])
        lines += [f"| {r['id']}: {_cell(r['risk'])} | {r['impact']} | {_cell(m['measure'])} | {_cell(m['claim'])} | "
                  f"{controls} | {r['status']} |" for m in r["measures"]]
    return "\n".join(lines) + "\n"


def assets_markdown(report: dict) -> str:
    lines = ["# Asset inventory", "", "| asset | kind | source | observed | attributes |", "|---|---|---|---|---|"]
    lines += [f"| {_cell(a['name'])} | {_cell(a['kind'])} | {a['source']} | {_cell(a.get('observed', ''))} | "
              + _cell(", ".join(f"{k}={v}" for k, v in a["attributes"].items() if v not in (None, [], ""))) + " |"
              for a in report["assets"]]
    return "\n".join(lines) + "\n"


def junit_xml(report: dict) -> str:
    """One testsuite per source, one testcase per check; fail -> <failure>, unknown -> <error>, n/a -> <skipped>."""
    root = ET.Element("testsuites", name="harden audit", timestamp=report["run"]["started_at"])
    suites: dict[str, list[dict]] = {}
    for item in report["evidence"]:
        suites.setdefault(item["source"], []).append(item)
    for source, items in suites.items():
        suite = ET.SubElement(root, "testsuite", name=f"audit.{source}", tests=str(len(items)),
                              failures=str(sum(i["status"] == FAIL for i in items)),
                              errors=str(sum(i["status"] == UNKNOWN for i in items)),
                              skipped=str(sum(i["status"] == NOT_APPLICABLE for i in items)))
        for item in items:
            case = ET.SubElement(suite, "testcase", classname=f"{source}.{item['subject']}", name=item["check"])
            message = f"expected {item['expected']!r}, actual {item['actual']!r} [{', '.join(item['controls'])}]"
            if item["status"] == FAIL:
                ET.SubElement(case, "failure", message=message).text = item.get("detail", "")
            elif item["status"] == UNKNOWN:
                ET.SubElement(case, "error", message=message).text = item.get("detail", "")
            elif item["status"] in (NOT_APPLICABLE, RISK_ACCEPTED):
                ET.SubElement(case, "skipped", message=message)
            ET.SubElement(case, "properties").extend(
                [ET.Element("property", name="controls", value=",".join(item["controls"])),
                 ET.Element("property", name="sha256", value=item["sha256"])])
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
