# The commands people run. `make run` sets everything up and opens the page;
# `make test` runs the test suite. Both create the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test index library bench eval lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch, pinned, before anything that depends on torch.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

index: $(STAMP)
	$(VENV)/bin/legalqa ingest

# The whole statute library beside the corpus (docs/library.md): about 20 s with the shipped vectors
# (half an hour of embedding without them; interrupted, it resumes); afterwards `make run` keeps it.
library: $(STAMP)
	$(VENV)/bin/legalqa ingest --library

run: index
	$(VENV)/bin/streamlit run app.py

test: $(STAMP)
	bash scripts/install-browser.sh
	$(VENV)/bin/pytest

eval: index
	$(VENV)/bin/legalqa eval

bench: index
	$(PY) scripts/bench.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .legalqa
