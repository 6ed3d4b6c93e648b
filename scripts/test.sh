#!/usr/bin/env bash
# The part of `make test` that needs the services: run by `python -m callcenter.services --tests`, which has
# set DATABASE_URL and REDIS_URL to a PostgreSQL and a Redis that answer. Usage: test.sh PYTHON PYTEST-ARGS…
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$1
shift
# The test settings (DEBUG on, a throw-away key), whatever a parent process set (importing the callcenter
# package sets Celery's default, callcenter.settings).
export DJANGO_SETTINGS_MODULE=callcenter.settings_test
"$PY" manage.py makemigrations --check --dry-run
FAST_PASSWORD_HASHER=1 exec "$PY" -m pytest "$@"
