#!/usr/bin/env bash
# Keep a signed audit report longer than CI artifacts live (GitHub keeps artifacts 90 days at most).
#
#   scripts/archive-audit.sh REPORT_DIR gs://BUCKET/audit     # gcp: the backup bucket, whose retention policy
#                                                            # (BACKUP.bucket_retention_days, locked) refuses deletion
#   scripts/archive-audit.sh REPORT_DIR /srv/audit-archive   # local: a directory on the node's LUKS volume
#
# The report is verified first (`harden audit --verify`, trusted key from AUDIT_PUBLIC_KEY or the keys committed under
# docs/audit/trusted-keys/); a report that does not verify is not archived. Each run lands under its own run id and
# an existing archive of the same run is never overwritten (A.5.33 Protection of records).
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:?usage: archive-audit.sh REPORT_DIR gs://BUCKET/PREFIX|DIRECTORY}
target=${2:?usage: archive-audit.sh REPORT_DIR gs://BUCKET/PREFIX|DIRECTORY}
verify=(.venv/bin/harden audit --verify "$report")
[ -n "${AUDIT_PUBLIC_KEY:-}" ] && verify+=(--public-key "$AUDIT_PUBLIC_KEY")
"${verify[@]}"
run_id=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["id"])' "$report/report.json")
case "$target" in
    gs://*)
        gcloud storage cp --recursive --no-clobber "$report" "$target/$run_id"
        ;;
    *)
        if [ -e "$target/$run_id" ]; then
            echo "archive-audit: $target/$run_id exists; an archived report is never overwritten (A.5.33)" >&2
            exit 1
        fi
        mkdir -p "$target"
        cp -a "$report" "$target/$run_id"
        chmod -R a-w "$target/$run_id"
        ;;
esac
echo "archive-audit: $report archived as $target/$run_id"
