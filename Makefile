# Entry points for developers and CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TEST_ENV := scripts/test-env

.PHONY: help demo deps build lint typecheck test-env test-env-down test test-unit test-integration bench

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

demo: build ## Run the whole pipeline locally on the built-in Polygon simulator (no API key)
	scripts/demo.sh

deps: node_modules/.package-lock.json ## Install npm dependencies (npm ci) when the lock file changed

build: deps ## Compile TypeScript into dist/
	npm run build

lint: deps ## ESLint, Prettier and the type checker
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

test: test-env build lint ## Everything CI runs: servers, build, lint, all tests
	scripts/run-tests.sh

bench: build ## Benchmarks on the local servers: table + bench/results/<date>.json (BENCH_ARGS="--quick", "--only <id>", "--soak-seconds 60")
	$(TEST_ENV)/up.sh nats postgres clickhouse
	npx tsc -p bench/tsconfig.json
	node dist/bench/bench/run.js $(BENCH_ARGS)
