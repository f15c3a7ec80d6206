"""Qdrant backup and drill figures: a generated collection in a scratch Qdrant (production image and spec),
backed up through the snapshot API into a local restic repository, again unchanged, again after 1% new points,
then drilled. Ratios within one run are the figures to read (see benchmarks/backup.md).

    .venv/bin/python -m benchmarks.qdrant_backup_bench --points 50000 --dim 384
"""

import argparse
import json
import random
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

from components import qdrant_backup, restic
from components.restic import Repository, write_private_file

REPO = Path(__file__).resolve().parents[1]
COLLECTION = "memories-bench"


def upsert(client, first_id: int, count: int, dim: int, generator: random.Random) -> None:
    for start in range(first_id, first_id + count, 1000):
        batch = [{"id": n, "vector": [generator.uniform(-1, 1) for _ in range(dim)],
                  "payload": {"tenant_id": "bench", "memory": f"memory {n}"}}
                 for n in range(start, min(start + 1000, first_id + count))]
        client.call("PUT", f"/collections/{COLLECTION}/points?wait=true", {"points": batch})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    image = json.loads((REPO / "build" / "images.json").read_text())["qdrant"]["id"]
    work = Path(tempfile.mkdtemp(prefix="rae-qdrant-bench-"))
    work.chmod(0o700)
    repository = Repository("bench", write_private_file(work / "password", secrets.token_urlsafe(32)),
                            location=str(work / "repo"))
    restic.ensure_initialised(repository)
    generator = random.Random(1)
    rows = []
    with qdrant_backup.scratch_store(image, "qdrant-bench", client_certificates=False) as store:
        store.client.call("PUT", f"/collections/{COLLECTION}", {"vectors": {"size": args.dim, "distance": "Cosine"}})
        started = time.monotonic()
        upsert(store.client, 1, args.points, args.dim, generator)
        print(f"generated {args.points} points of {args.dim} dims in {time.monotonic() - started:.0f} s", flush=True)
        source = store.backup_source(work)
        for step in ("first backup", "second backup (no change)", "third backup (1% points added)"):
            if step.startswith("third"):
                upsert(store.client, args.points + 1, args.points // 100, args.dim, generator)
            result, = qdrant_backup.backup_qdrant(source, [repository])
            size = int(subprocess.run(["du", "-sb", str(work / "repo")], capture_output=True, text=True).stdout.split()[0])
            rows.append((step, result.seconds, result.bytes_processed, result.bytes_added, size))
            print(rows[-1], flush=True)
    drill = qdrant_backup.drill_qdrant(repository, image)
    print(f"\n| step | seconds | ratio | snapshot bytes | new data (data_added) | ratio | repository on disk |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    first_s, first_added = rows[0][1], rows[0][3]
    for step, seconds, processed, added, size in rows:
        print(f"| {step} | {seconds:.1f} | {seconds / first_s:.2f} | {processed / 2**20:.1f} MiB | "
              f"{added / 2**20:.1f} MiB | {added / first_added:.3f} | {size / 2**20:.0f} MiB |")
    print(f"| drill (RTO), matched={drill.matched} | {drill.rto_seconds:.1f} | {drill.rto_seconds / first_s:.2f} | | | | |")
    subprocess.run(["rm", "-rf", str(work)])
    return 0 if drill.matched else 1


if __name__ == "__main__":
    raise SystemExit(main())
