#!/usr/bin/env bash
# Make sure the real PostgreSQL and Redis that the tests use are up; start them when they are down.
# Fails loudly: the tests never fall back to SQLite or an in-memory layer.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [ -n "${DATABASE_URL:-}" ] && [[ "${DATABASE_URL}" != *127.0.0.1:5432* ]]; then
  echo "services: DATABASE_URL points elsewhere; not managing a local PostgreSQL."
elif ! pg_up; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "services: PostgreSQL is not running on 127.0.0.1:5432 and could not be started" >&2; exit 1; }
fi

if [ -n "${REDIS_URL:-}" ] && [[ "${REDIS_URL}" != *127.0.0.1:6379* ]]; then
  echo "services: REDIS_URL points elsewhere; not managing a local Redis."
elif ! redis_up; then
  echo "services: starting Redis"
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "services: Redis is not running on 127.0.0.1:6379 and could not be started" >&2; exit 1; }
fi

# The database the project uses (the test databases are created by pytest-django next to it).
if pg_up && ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='centralino'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "create database centralino"
fi
echo "services: PostgreSQL and Redis are up"
