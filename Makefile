# kube-netcheck: the entry points. Every target installs what it needs on a fresh machine.
SHELL := /bin/bash
export PATH := $(or $(KNC_CACHE),/var/cache/kube-netcheck)/tools/bin:$(PATH)

.PHONY: setup engine images cluster-up cluster-down check test test-unit bench typecheck safety-net-check

setup: engine node_modules/.installed  ## docker engine, kind, kubectl, npm packages, chromium (HTML report test)
	bash scripts/build/components.sh
	bash scripts/install-chromium.sh

engine:
	bash scripts/engine.sh

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

images: engine  ## node image + test images (offline build, cached)
	bash scripts/build/node-image.sh

cluster-up: setup  ## create or reuse the kind cluster
	bash scripts/cluster-up.sh

cluster-down:
	bash scripts/cluster-down.sh

check: setup  ## the main job: verify the cluster's network model, reports in reports/
	npm run check

test: setup  ## unit tests + every spec against a live kind cluster
	npm test

test-unit: node_modules/.installed
	npm run test:unit

bench: setup  ## suite wall time on a warm cluster (KEEP_CLUSTER=1 implied)
	bash scripts/bench.sh

typecheck: node_modules/.installed
	npm run typecheck

safety-net-check:
	bash scripts/safety-net.sh check
