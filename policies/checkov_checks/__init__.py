"""checkov custom checks for what checkov lacks (Docker container hardening, Cloud Run ingress, CMEK on SQL,
secrets and buckets, TLS 1.3 SSL policies). Loaded by checkov from its own venv with
`--external-checks-dir policies/checkov_checks` and the repository root on PYTHONPATH: ids, titles and
controls come from the rule catalog, thresholds from the baseline (both pure data).
"""
