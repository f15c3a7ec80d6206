# The two commands of the README: `make up` (the local stack) and `make test` (every suite).
.PHONY: up down test unit setup policy audit lock bench

up:            ## build images, provide the Pulumi engine, `pulumi up` the local stack
	bash scripts/up.sh

down:          ## destroy the local stack; data volumes are kept unless RELEASE_DATA=1
	bash scripts/down.sh

test:          ## install every real part, then run all suites (unit, containers, engine, hosts, gate, audit)
	bash scripts/test.sh

unit:          ## the unit suite only (no real parts)
	bash scripts/bootstrap.sh && .venv/bin/python -m pytest tests/unit

setup:         ## install and start the real parts without running tests
	bash scripts/setup.sh

policy:        ## the pull-request gate on this repository
	.venv/bin/harden policy . --waivers policies/waivers.yaml

audit:         ## drift and compliance report of the local stack, the hosts and the gate (out/audit)
	.venv/bin/harden audit --out out/audit --stack local --inventory hosts/inventory.py --gate .

lock:          ## re-resolve requirements.lock (hash-pinned) from pyproject.toml
	bash scripts/lock.sh

bench:         ## run the benchmarks (figures land in benchmarks/)
	bash benchmarks/run.sh
