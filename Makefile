# The two commands a newcomer needs:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Run the hub with the demo partnership on SQLite at http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/hub demo

## Run the test suite (SQLite; also PostgreSQL when HUB_TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench

## Regenerate the committed OpenAPI document
openapi: $(STAMP)
	$(BIN)/python -m hub.api.openapi_document

bench: $(STAMP)
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
