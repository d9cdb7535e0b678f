# Two commands for a new user: `make run` then `make test`. Both create .venv from the lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: setup run test lint bench lock clean docs

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: setup docs/fields.md  ## Run the pipeline on raw/ into processed/ and reports/quality/
	$(BIN)/casualties run

test: setup docs/fields.md  ## Run the test suite
	$(BIN)/python -m pytest -q

docs: docs/fields.md  ## The data dictionary, generated from the field list

docs/fields.md: casualties/fields.py | setup
	$(BIN)/casualties fields --output $@

lint: setup  ## ruff (style, complexity), the import contract of the layers, then mypy (pyproject.toml)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && $(BIN)/mypy

bench: setup  ## Benchmark throughput and memory at 10, 30 and 100 MB
	$(BIN)/casualties bench

lock:  ## Re-pin requirements.lock from pyproject.toml (needs pip-tools)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) processed/*.parquet processed/figures processed/incidents reports .prefect
