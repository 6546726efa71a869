# Two entry points for a new user: `make demo` (end to end) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU build of torch: the CUDA build is several GB and not needed for anything here.
TORCH_SPEC ?= torch==2.13.0
REAL ?= ../shared/data/real
DEMO_MODEL ?= runs/default
SAMPLE ?= tests/fixtures/sample_bulletin.txt

.PHONY: install demo test lint corpus clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# The ray extra only for the tests (the --engine ray tests, as CI runs them): about 240 MB and under a minute, which
# make demo (near its 30-minute budget on 2 cores) does not spend.
$(VENV)/.ray: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[test,ray]"
	touch $@

install: $(VENV)/.installed

corpus: install
	$(PY) -m data.corpus build

demo: install
	$(PY) -m data.corpus build
	$(VENV)/bin/penalty prepare
	$(VENV)/bin/penalty train --training.output_dir $(DEMO_MODEL)
	$(VENV)/bin/penalty train --task segment --training.output_dir $(DEMO_MODEL)/segmenter
	$(VENV)/bin/penalty train --model.model_type tfidf --model.rule_fusion false --training.output_dir $(DEMO_MODEL)-tfidf
	@if [ -d "$(REAL)" ]; then $(VENV)/bin/penalty evaluate --model rules --model $(DEMO_MODEL)-tfidf --model $(DEMO_MODEL) --data $(REAL) --report reports/demo; \
	else $(VENV)/bin/penalty evaluate --model rules --model $(DEMO_MODEL)-tfidf --model $(DEMO_MODEL) --data tests/fixtures/units.jsonl --bootstrap 0; fi
	@if [ -d "$(REAL)" ]; then $(PY) benchmarks/segmentation.py $(REAL) --segmenter rules --segmenter $(DEMO_MODEL)/segmenter; fi
	$(VENV)/bin/penalty predict --model $(DEMO_MODEL) $(SAMPLE) -o $(DEMO_MODEL)/sample_predictions.jsonl
	$(VENV)/bin/penalty -q predict --model $(DEMO_MODEL) $(SAMPLE) --readable

test: install $(VENV)/.ray
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) runs reports
