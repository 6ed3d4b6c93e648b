#!/usr/bin/env bash
# `make run`: migrate, load the demo, start every process, stop them all on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}

if [ -z "${DATABASE_URL:-}" ] && [ -z "${REDIS_URL:-}" ]; then
  echo "Embedded mode: SQLite file db.sqlite3, in-process channel layer, tasks run in-process."
  echo "(Set DATABASE_URL and REDIS_URL to use PostgreSQL, Redis and Celery workers.)"
fi
command -v msgfmt >/dev/null && $PY manage.py compilemessages --ignore='.venv/*' -v0 || true
$PY manage.py migrate --no-input -v0
$PY manage.py loaddemo

pids=()
cleanup() { echo; echo "Stopping…"; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; }
trap cleanup INT TERM EXIT

.venv/bin/daphne -b "$HOST" -p "$PORT" callcenter.asgi:application &
pids+=($!)
if [ -n "${REDIS_URL:-}" ]; then
  .venv/bin/celery -A callcenter worker -l warning --concurrency 2 &
  pids+=($!)
  .venv/bin/celery -A callcenter beat -l warning &
  pids+=($!)
else
  $PY manage.py run_timers &  # embedded mode: the ACD's timers without Celery beat
  pids+=($!)
fi
# A small scenario keeps the demo floor moving, in real time, on the demo account's numbers.
if [ "${DEMO_SIMULATION:-1}" = "1" ]; then
  $PY manage.py simulate scenarios/demo.yaml --speed realtime --quiet &
  pids+=($!)
fi

cat <<MSG

Centralino is running:
  Admin (six-step setup):  http://$HOST:$PORT/admin/
  API docs:                http://$HOST:$PORT/api/docs/
Logins are printed above (password: ${DEMO_PASSWORD:-centralino-demo}). Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
