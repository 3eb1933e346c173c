# veritee: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# The vtpm extra (tpm2-pytss) compiles against libtss2; install it only where the library
# is (`.ci/run` installs it). Without it, the vTPM device tests skip locally (and fail in CI).
HAVE_TSS   := $(shell pkg-config --exists tss2-esys 2>/dev/null && echo yes)
TEST_EXTRAS ?= dev$(if $(HAVE_TSS),$(comma)vtpm)
comma := ,

# npm tools (solc-js, anvil) pinned in package.json. Without npm, the tests that need them
# skip locally (and fail in CI, where .ci/run installs npm).
NPM       := $(shell command -v npm 2>/dev/null)
NODE_DEPS := $(if $(NPM),node_modules/.installed)

# Fuzzing: base seconds per target (binary parsers and verifiers run twice as long).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: demo test lint typecheck unit bench clean contracts fuzz

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What the demo needs (a plain install plus the openai SDK the demo client uses).
$(VENV)/.installed-demo: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $@

# What the tests need: linters, type checker, SDKs, and the vtpm extra where it builds.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

## The main job: the full local stack on embedded defaults (CHAIN=anvil anchors on a real
## local node instead of the embedded chain; npm installs it).
CHAIN ?= embedded
demo: $(VENV)/.installed-demo $(if $(filter anvil,$(CHAIN)),node_modules/.installed)
	$(BIN)/veritee demo --chain $(CHAIN)

## The tests: linter, type checker, import boundaries, then the suite.
test: lint typecheck unit

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test $(NODE_DEPS)
	$(BIN)/pytest

## Recompile contracts/src into the committed contracts/artifacts (deterministic).
contracts: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/python -m contracts.compile

## Every benchmark, side by side with direct calls and LiteLLM; rewrites docs/benchmarks.md
## (about 25 minutes; `make bench BENCH_ARGS=--quick` for a smoke run).
bench: $(VENV)/.installed-test $(NODE_DEPS)
	$(BIN)/python -m bench $(BENCH_ARGS)

# What fuzzing needs: a plain install plus atheris and coverage.py.
$(VENV)/.installed-fuzz: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[fuzz]"
	touch $@

## Coverage-guided fuzzing of every parser of untrusted bytes, one target after the other
## on one core (docs/fuzzing.md). Corpora and crashes stay in .fuzz/.
fuzz: $(VENV)/.installed-fuzz
	$(BIN)/python -m fuzz run --seconds $(FUZZ_SECONDS) $(if $(FUZZ_TARGETS),--targets $(FUZZ_TARGETS))

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache
