"""Provisioning: Pulumi components that can only build the hardened form, and the two stacks made of them.

Pure modules (no Pulumi import) that the container tests, host deploys and audits share: `spec`
(ContainerSpec), `block_device` (LUKS check), `postgres_runtime`, `proxy_runtime`, `backup_runtime`.
Components: `container` (+ `pids_limit`), `volume`, `tls`, `tls_proxy`, `https_endpoint`, `identity`,
`kms`, `secrets`, `host_files`, `postgres`, `qdrant`, `backups`; stacks in `stacks/`; `render` draws a
program's resource graph under mocks; `controls_table` writes docs/components.md.
"""
