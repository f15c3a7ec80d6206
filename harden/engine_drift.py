"""Drift as the Pulumi engine sees it, attribute by attribute, from `pulumi preview --refresh --json`.

`pulumi refresh --preview-only --json` does not carry the refreshed outputs in its steps (its newState
repeats the old one), so drift is read from a refreshing preview instead: for each step that would change
a resource, the refreshed live value (`oldState.outputs`) is compared with the declared one
(`newState.inputs`). A resource deleted out of band shows as a step that would create it again.
"""

CHANGING_OPS = ("update", "replace", "create-replacement")


def drift_from_preview(preview: dict) -> dict[str, dict[str, tuple]]:
    """{resource URN: {attribute: (declared, live)}} for every resource whose live state left its declaration.

    + preview: the parsed JSON of `pulumi preview --refresh --json`
    """
    drift: dict[str, dict[str, tuple]] = {}
    for step in preview.get("steps", []):
        op, urn = step.get("op"), step.get("urn", "")
        if op == "create" and urn.split("::")[-2:-1] != ["pulumi:pulumi:Stack"]:
            drift[urn] = {"exists": (True, False)}
        elif op in CHANGING_OPS:
            live = (step.get("oldState") or {}).get("outputs") or {}
            declared = (step.get("newState") or {}).get("inputs") or {}
            changed = {key: (declared.get(key), live.get(key)) for key in declared
                       if not key.startswith("__") and live.get(key) != declared.get(key)}
            if changed:
                drift.setdefault(urn, {}).update(changed)
    return drift


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]
