# Two entry points for a fresh machine: `make demo` (the project workflow) and `make test`.
PYTHON ?= python3
# The data (project.yml `assets`): ../shared/data where it exists, else assets/, filled by
# `spacy project assets` when a file the workflow reads is missing (and only then).
DATA ?= $(if $(wildcard ../shared/data),../shared/data,assets)
PROJECT_VARS := --vars.data $(DATA)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo all zh-demo zh-all tapt zh-tapt assets-dry test setup clean

$(STAMP): setup.cfg requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The pinned CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/project_assets.py missing --workflow demo $(PROJECT_VARS) || $(BIN)/python -m spacy project assets . $(PROJECT_VARS)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run demo . $(PROJECT_VARS)

# The other workflows' files are `extra` assets.
all zh-demo zh-all tapt zh-tapt: $(STAMP)
	$(BIN)/python scripts/project_assets.py missing --workflow $@ $(PROJECT_VARS) || $(BIN)/python -m spacy project assets . --extra $(PROJECT_VARS)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run $@ . $(PROJECT_VARS)

# What `spacy project assets` would fetch for the demo (weasel has no --dry).
assets-dry: $(STAMP)
	$(BIN)/python scripts/project_assets.py dry --workflow demo $(PROJECT_VARS)

test: $(STAMP)
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(BIN)/python -m pytest tests -q

clean:
	rm -rf $(VENV) corpus training packages metrics
