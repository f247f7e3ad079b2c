# The two commands a newcomer needs:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint openapi bench bench-share clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e ./clients/python   # the hub, and the partner client
	touch $(STAMP)

install: $(STAMP)

## Run the hub with the demo partnership on SQLite at http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/hub demo

## Run the test suite (SQLite; also PostgreSQL when HUB_TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench clients
	$(BIN)/mypy hub
	$(BIN)/mypy --strict clients/python/src

## Regenerate the committed OpenAPI document
openapi: $(STAMP)
	$(BIN)/python -m hub.api.openapi_document

bench: $(STAMP)
	$(BIN)/python bench/ledger.py

## Audited referrals vs a bare Flask + SQLAlchemy endpoint in alternating rounds (median ratio,
## p50/p99 side by side, CPU and round trips per referral), writers 1/2/4/8, two hub instances
## vs one, and the 10,000 batch (gunicorn + PostgreSQL; BENCH_POSTGRES names the server, a
## throw-away database is used; BENCH_ARGS e.g. "--json bench-share.json")
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
bench-share: $(STAMP)
	$(BIN)/python bench/share.py --postgres $(BENCH_POSTGRES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
