# veritee: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,vtpm

# npm tools (solc-js, anvil) pinned in package.json. Without npm, the tests that need them
# skip locally (and fail in CI, where .ci/run installs npm).
NPM       := $(shell command -v npm 2>/dev/null)
NODE_DEPS := $(if $(NPM),node_modules/.installed)

.PHONY: demo test lint typecheck unit bench clean contracts

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

## The main job: the full local stack on embedded defaults.
demo: $(STAMP)
	$(BIN)/veritee demo

## The tests: linter, type checker, import boundaries, then the suite.
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(NODE_DEPS)
	$(BIN)/pytest

## Recompile contracts/src into the committed contracts/artifacts (deterministic).
contracts: $(STAMP) node_modules/.installed
	$(BIN)/python -m contracts.compile

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache
