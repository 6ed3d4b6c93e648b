# Centralino — the two commands a user types are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/centralino
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test install services browser lint messages bench bench-% clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make run: the whole system (daphne, Celery worker and beat with Redis; embedded defaults without).
run: install
	bash scripts/run.sh

## make test: every test, against the real PostgreSQL and Redis (started here when they are down).
test: install services browser
	$(PY) -m ruff check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  FAST_PASSWORD_HASHER=1 $(PY) -m pytest -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

services:
	bash scripts/services.sh

## The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own here).
browser:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install
	$(PY) -m ruff check .

messages: install
	$(PY) manage.py makemessages -l it --ignore='.venv/*' --ignore='bench/*'
	$(PY) manage.py compilemessages --ignore='.venv/*'

## make bench: every benchmark; make bench-<name>: one (results in bench/results/<name>.json).
bench: install services
	@for b in bench/bench_*.py; do n=$${b#bench/bench_}; $(MAKE) --no-print-directory bench-$${n%.py} || exit 1; done

bench-%: install services
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  FAST_PASSWORD_HASHER=1 $(PY) bench/bench_$*.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
