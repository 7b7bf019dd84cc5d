# Two entry points for a fresh machine: `make demo` (the project workflow) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo all zh-demo zh-all test setup clean

$(STAMP): setup.cfg requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The pinned CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run demo

all: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run all

zh-demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run zh-demo

zh-all: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m spacy project run zh-all

test: $(STAMP)
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(BIN)/python -m pytest tests -q

clean:
	rm -rf $(VENV) corpus training packages metrics
