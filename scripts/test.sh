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
# The SIP tests (a Kamailio, SIPp phones and callers each, timed on the wire) run one at a time on one worker
# (--dist loadgroup, their xdist_group "sip"): two stacks at once on 2 cores missed SIP timers.
FAST_PASSWORD_HASHER=1 exec "$PY" -m pytest --dist loadgroup "$@"
