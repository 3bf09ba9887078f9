# zkml-eth: the two commands of the README, and the steps they are made of.
#
#   make demo   the main job, end to end, on a local anvil
#   make test   every test: Rust workspace, forge, the solc shim, formatting and clippy
#
# Both install what they need (npm ci for the EVM toolchain, cargo for the Rust workspace) and reuse what
# is already there. Everything they generate lives in git-ignored paths (target/, node_modules/, out/,
# cache/, broadcast/, .zkml-cache/).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
export PATH := $(ROOT)/node_modules/.bin:$(PATH)
# forge resolves a relative compiler path against the working directory; an absolute one works anywhere.
export FOUNDRY_SOLC := $(ROOT)/tools/solc/solc
export FOUNDRY_DISABLE_NIGHTLY_WARNING := 1

CARGO ?= cargo
# One profile for the binary and the tests, so the halo2 stack is compiled once.
CARGO_FLAGS := --release --locked --workspace

.PHONY: help deps build demo serve test test-solc test-python test-forge test-deploy test-dapp test-rust lint fmt clean bench fixtures

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

deps: node_modules/.package-lock.json lib/forge-std/VERSION ## install the EVM toolchain from npm (forge, anvil, cast, solcjs, forge-std, OpenZeppelin)

# npm ci writes node_modules/.package-lock.json; it is the stamp that the install matches the lock file.
# Its postinstall writes lib/forge-std; the second rule redoes that alone when only the rewrite changed.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@ lib/forge-std/VERSION

lib/forge-std/VERSION: node_modules/.package-lock.json tools/forge-std/install.mjs
	node tools/forge-std/install.mjs

# Warnings in our contracts, scripts and tests fail the build (dependencies' are filtered in foundry.toml).
build: deps ## compile the contracts and the Rust workspace (release)
	forge build --deny warnings
	$(CARGO) build $(CARGO_FLAGS)

# Keys and the development SRS are cached in the repository's git-ignored cache: a second demo skips keygen.
demo: build ## run the end-to-end demo on a local anvil
	ZKML_CACHE_DIR="$${ZKML_CACHE_DIR:-$(ROOT)/.zkml-cache}" target/release/zkml-eth demo --out target/demo

serve: build ## the demo, then its chain and the dApp (examples/dapp) kept running until Ctrl-C
	ZKML_CACHE_DIR="$${ZKML_CACHE_DIR:-$(ROOT)/.zkml-cache}" target/release/zkml-eth demo --out target/demo --serve

test: build test-solc test-python test-forge test-deploy test-dapp test-rust lint ## run every test
	@echo "make test: all tests passed"

test-solc: deps ## tests of the solc shim
	node --test tools/solc/test/

# The examples' encodings in Python (standard library only), against the fixtures Rust and forge read too.
test-python: ## tests of the examples' Python encodings
	python3 -m unittest discover -s examples/eth-price -p 'test_*.py'
	python3 -m unittest discover -s examples/pixel-art -p 'test_*.py'

test-forge: deps ## forge tests (unit, fuzz, invariant)
	forge test

test-deploy: deps ## script/Deploy.s.sol against a real anvil, and what it deployed
	tools/deploy-check.sh

# The dApp's browser test drives Debian's Chromium: Playwright never downloads a browser here.
CHROMIUM ?= /usr/lib/chromium/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the dApp test needs Chromium at $(CHROMIUM): install it, or set CHROMIUM=PATH" >&2; exit 1; }
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

examples/dapp/node_modules/.package-lock.json: examples/dapp/package.json examples/dapp/package-lock.json
	npm --prefix examples/dapp ci --no-audit --no-fund --loglevel=error
	@touch $@

test-dapp: build $(CHROMIUM) examples/dapp/node_modules/.package-lock.json ## the dApp in Chromium against contracts deployed by the CLI
	cd examples/dapp && CHROMIUM=$(CHROMIUM) ZKML_CACHE_DIR="$${ZKML_CACHE_DIR:-$(ROOT)/.zkml-cache}" npm test

test-rust: deps ## cargo tests of the workspace (anvil, revm, prover)
	$(CARGO) test $(CARGO_FLAGS)

lint: deps ## formatting and clippy, as CI checks them
	$(CARGO) fmt --all --check
	forge fmt --check
	$(CARGO) clippy $(CARGO_FLAGS) --all-targets -- -D warnings

# EZKL 23.0.5 in a git-ignored virtualenv, for the side-by-side benchmark; the stamp tracks the pins.
EZKL_VENV := .zkml-cache/ezkl-venv

$(EZKL_VENV)/.installed: tools/bench/requirements.txt
	python3 -m venv $(EZKL_VENV)
	$(EZKL_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/bench/requirements.txt
	@touch $@

bench: build $(EZKL_VENV)/.installed ## benchmark proving on the examples, beside EZKL 23.0.5
	ZKML_CACHE_DIR=$(ROOT)/.zkml-cache ZKML_EZKL_PYTHON=$(ROOT)/$(EZKL_VENV)/bin/python target/release/zkml-eth bench

fixtures: deps ## regenerate test/fixtures (real proofs of the example models and their verifiers) with the prover
	tools/fixtures/aggregated.sh
	tools/fixtures/committed.sh
	tools/fixtures/examples.sh
	tools/fixtures/batch.sh

fmt: deps ## format Rust and Solidity sources
	$(CARGO) fmt --all
	forge fmt

clean: ## remove build outputs and caches (keeps node_modules)
	$(CARGO) clean
	rm -rf out cache broadcast .zkml-cache
