# Centralino — the two commands a user types are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/centralino
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# The tests and benchmarks run on DATABASE_URL/REDIS_URL (default: the machine's services); a local one that does
# not answer is started (Debian's packages) or replaced by an embedded server for the command's duration.
WITH_TEST_SERVICES = DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	$(PY) -m callcenter.services --tests --

.PHONY: run test install install-dev browser sip lint messages schema bench bench-% clean

$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-run

install-dev: $(VENV)/.installed-dev

## make run: the whole system, production's processes (Procfile) under honcho; PostgreSQL and Redis embedded
## (data in .data/) unless DATABASE_URL/REDIS_URL are set.
run: install
	$(PY) -m callcenter.run

## make test: ruff, the layers (import-linter's contracts in pyproject.toml), the migrations check and every test,
## against a real PostgreSQL and Redis.
test: install-dev browser sip
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(WITH_TEST_SERVICES) bash scripts/test.sh $(PY) -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

## The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own here).
browser:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The SIP tests and bench-sip run Debian's Kamailio (with the HTTP client, JSON and utility modules) and SIPp.
SIP_PACKAGES := kamailio kamailio-utils-modules kamailio-extra-modules kamailio-json-modules sip-tester
sip:
	@{ command -v kamailio && command -v sipp \
	   && test -f /usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so \
	   && test -f /usr/lib/x86_64-linux-gnu/kamailio/modules/jansson.so; } >/dev/null \
	 || { echo "Installing Debian's Kamailio and SIPp for the SIP tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SIP_PACKAGES); }

bench-sip: sip

lint: install-dev
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

## Settings need a database URL even here: the services wrapper provides one (embedded when unset).
messages: install-dev
	$(PY) -m callcenter.services -- bash -c "$(PY) manage.py makemessages -l it --ignore='.venv/*' \
	  --ignore='bench/*' && $(PY) manage.py compilemessages --ignore='.venv/*'"

## make schema: regenerate the committed OpenAPI schema (docs/openapi.yaml) after an API change; the tests fail
## while it differs from what the code serves. Generating it reads no database (the URL only satisfies settings).
schema: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  DJANGO_SETTINGS_MODULE=callcenter.settings_test \
	  $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

## make bench: every benchmark; make bench-<name>: one (results in bench/results/<name>.json).
bench: install-dev
	@for b in bench/bench_*.py; do n=$${b#bench/bench_}; $(MAKE) --no-print-directory bench-$${n%.py} || exit 1; done

bench-%: install-dev
	FAST_PASSWORD_HASHER=1 DEBUG=$${DEBUG:-true} $(WITH_TEST_SERVICES) $(PY) bench/bench_$*.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
