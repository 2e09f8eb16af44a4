# txtcrm: `make run` starts the product, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/txtcrm
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=
ADDR ?= 127.0.0.1:8000
# Each pass runs the tests in TEST_WORKERS processes (pytest-xdist: each takes test files
# in turn and, near the end, takes over tests still waiting in the others), then the
# `serial` ones alone (tests/conftest.py, SERIAL). Exit status 5 is "no test selected":
# PYTEST_ARGS may pick none of one kind.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not serial" $(PYTEST_ARGS)
PYTEST_SERIAL = $(PY) -m pytest -m serial $(PYTEST_ARGS) || test $$? -eq 5

.PHONY: run test test-sqlite test-postgres prod-check lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# `make run ADDR=127.0.0.1:8001`: where the server listens, and (unless PUBLIC_BASE_URL
# is set) the URL TxtSync, here the built-in sandbox, sends its webhooks to.
run: $(STAMP)
	DEBUG=$${DEBUG:-1} PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(ADDR)} $(PY) manage.py run_embedded $(ADDR)

test: test-sqlite
	@if $(PY) scripts/reachable.py 127.0.0.1:5432 127.0.0.1:6379; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "== SKIPPED the PostgreSQL + Redis pass: 127.0.0.1:5432 or :6379 is not reachable"; \
	fi

test-sqlite: $(STAMP)
	@echo "== Test pass 1/2: SQLite, filesystem broker ($(TEST_WORKERS) processes, then serial tests)"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PYTEST_PARALLEL)
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PYTEST_SERIAL)

test-postgres: $(STAMP)
	@echo "== Test pass 2/2: PostgreSQL ($(PG_URL)), Redis ($(REDIS_URL)) ($(TEST_WORKERS) processes, then serial tests)"
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) REDIS_URL=$(REDIS_URL) $(PYTEST_PARALLEL)
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) REDIS_URL=$(REDIS_URL) $(PYTEST_SERIAL)

# The production shape on this machine, without Docker: PostgreSQL database
# txtcrm_prodcheck, Redis db 15, gunicorn + 2 Celery workers + beat started with the
# commands docker-compose.yml runs (deploy/processes.py), a smoke scenario, all stopped.
prod-check: $(STAMP)
	$(PY) deploy/prod_check.py

# ruff, then the layers (pyproject.toml's [tool.importlinter]; docs/architecture.md, "Layers").
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) var
