# kube-netcheck: the entry points. Every target installs what it needs on a fresh machine.
SHELL := /bin/bash
export PATH := $(or $(KNC_CACHE),/var/cache/kube-netcheck)/tools/bin:$(PATH)

.PHONY: cni-matrix conformance
.PHONY: setup engine images cluster-up cluster-down check test test-unit bench bench-help typecheck lint safety-net-check

# The managed cluster's CNI and shape (make check CNI=kube-router SHAPE=alt). A CNI without a
# NetworkPolicy engine cannot pass the policy checks ("NetworkPolicy is not enforced"): for those,
# `make check` leaves them out and says so; `kube-netcheck run` alone runs them and fails them.
CNI ?= flannel-host-gw
SHAPE ?= default
# The managed cluster's IP family: ipv4 (default), ipv6 or dual (make check IP_FAMILY=dual).
IP_FAMILY ?= ipv4
POLICY_ENGINE := $(if $(findstring +policy,$(CNI))$(findstring kube-router,$(CNI)),yes,)
CHECK_FLAGS := --cni $(CNI) --shape $(SHAPE) --ip-family $(IP_FAMILY) $(if $(POLICY_ENGINE),,--skip policy) $(if $(filter 1,$(KEEP_CLUSTER)),--keep,)
SRC := $(shell find src -name '*.ts') tsconfig.json tsconfig.build.json

setup: engine node_modules/.installed  ## docker engine, kind, kubectl, npm packages, chromium (HTML report test)
	bash scripts/build/components.sh
	bash scripts/install-chromium.sh

engine:
	bash scripts/engine.sh

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

dist/.built: node_modules/.installed $(SRC)  ## the compiled library and CLI (npm ci's prepare builds it too)
	npm run --silent build
	touch $@

images: engine  ## node image + test images (offline build, cached)
	bash scripts/build/node-image.sh

cluster-up: setup  ## create or reuse the kind cluster [CLUSTER=name SHAPE=default|alt|scale CNI=name | CNI_MANIFEST=file IP_FAMILY=ipv4|ipv6|dual]
	$(if $(CLUSTER),KNC_CLUSTER='$(CLUSTER)') $(if $(SHAPE),KNC_SHAPE='$(SHAPE)') $(if $(IP_FAMILY),KNC_IP_FAMILY='$(IP_FAMILY)') $(if $(CNI),KNC_CNI='$(CNI)') $(if $(CNI_MANIFEST),KNC_CNI_MANIFEST='$(CNI_MANIFEST)') bash scripts/cluster-up.sh

cluster-down:  ## delete it [CLUSTER=name]
	$(if $(CLUSTER),KNC_CLUSTER='$(CLUSTER)') bash scripts/cluster-down.sh

check: setup dist/.built  ## the main job: the network-model checks on the cluster (kube-netcheck run), reports in reports/
	$(if $(POLICY_ENGINE),,@echo "make check: CNI $(CNI) has no NetworkPolicy engine: the policy checks are left out (--skip policy)")
	node bin/kube-netcheck.js run $(CHECK_FLAGS)

test: setup dist/.built  ## the tests: lint, unit tests, the network-model specs and the tool's self-tests on a live kind cluster
	npm run lint
	npm run --silent format:check
	npm test

test-unit: node_modules/.installed
	npm run test:unit

bench: setup dist/.built  ## seed checks' wall time on a warm cluster, 5 runs, median and breakdown (cluster kept)
	bash scripts/bench.sh 5

bench-help: node_modules/.installed  ## start-up of the installed package: `kube-netcheck --help` and `npx kube-netcheck --help`, medians
	bash scripts/bench-help.sh 11

typecheck: node_modules/.installed
	npm run typecheck

lint: node_modules/.installed  ## eslint (eslint.config.js); the format is Prettier's (npm run format / format:check)
	npm run lint
	npm run --silent format:check

safety-net-check:
	bash scripts/safety-net.sh check

cni-matrix: setup dist/.built  ## every built-in CNI in turn: cluster, whole suite, docs/cni-matrix.md
	node bin/kube-netcheck.js cni-matrix

conformance: setup dist/.built  ## upstream [sig-network] [Conformance] on the managed cluster (FOCUS=, SKIP= regexes)
	bash scripts/build/conformance.sh >/dev/null
	bash scripts/cluster-up.sh >/dev/null
	bash scripts/conformance/load-images.sh
	node bin/kube-netcheck.js conformance $(if $(FOCUS),--focus '$(FOCUS)',) $(if $(SKIP),--skip '$(SKIP)',)
