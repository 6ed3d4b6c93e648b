"""Which PostgreSQL and Redis a command runs on, made to answer before the command starts.

- `make run` (`for_run`): `DATABASE_URL`/`REDIS_URL` when set; each one unset is an embedded server (see
  `callcenter.embedded`) with its data in `.data/`, kept between runs.
- `make test` and the benchmarks (`for_tests`): the URLs given (the Makefile's defaults point at the machine's
  services). A local service that does not answer is started from Debian's packages when they are installed and
  it is on their standard port; otherwise an embedded server, with throw-away data in `.data/test/`, takes its
  place. A remote URL that does not answer is an error: it is never silently replaced.

`python -m callcenter.services [--tests] -- COMMAND…` runs a command on them and stops what it started.
Like `callcenter.embedded`, this needs no Django.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
import redis

from callcenter.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServiceError

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
DEBIAN_POSTGRES_PORT = 5432
DEBIAN_REDIS_PORT = 6379
RUN_POSTGRES_PORT = 55432  # preferred ports of the embedded servers: stable URLs between runs when free
RUN_REDIS_PORT = 56379
SERVICE_START_WAIT = 30.0


def load_env_file() -> None:
    """Fill in what the environment leaves unset from .env (or ENV_FILE), as the settings do: a DATABASE_URL
    kept there must stop `make run` from starting an embedded server, and PORT or WEB_CONCURRENCY there must
    reach the Procfile's commands."""
    path = Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")
    if path.is_file():
        environ.Env.read_env(path)


def data_dir() -> Path:
    """The one folder (git-ignored) holding the embedded servers' data; EMBEDDED_DATA_DIR moves it."""
    return Path(os.environ.get("EMBEDDED_DATA_DIR") or BASE_DIR / ".data")


@dataclass
class Services:
    """The URLs a command gets and the embedded servers to stop after it (only the ones started here)."""

    database_url: str = ""
    redis_url: str = ""
    started: list[EmbeddedPostgres | EmbeddedRedis] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}

    def stop(self) -> None:
        for server in reversed(self.started):
            server.stop()
        self.started.clear()


def say(message: str) -> None:
    sys.stdout.write(f"services: {message}\n")
    sys.stdout.flush()


def postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, dbname="postgres", connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def ensure_database(url: str) -> None:
    """Create the URL's database on a local server when missing (the test databases are made next to it)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone() is None:
            conn.execute(f'create database "{name}"')


def with_port(url: str, port: int) -> str:
    """The same URL (user, database or Redis db) on 127.0.0.1:`port`."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}127.0.0.1:{port}", parts.path, parts.query, ""))


def start_embedded_postgres(folder: Path, url: str, services: Services, *, preferred_port: int,
                            durable: bool) -> str:
    server = EmbeddedPostgres(folder, preferred_port=preferred_port, durable=durable)
    if server.start():
        services.started.append(server)
    url = with_port(url, server.port)
    ensure_database(url)
    say(f"PostgreSQL 18 (embedded, data in {folder}) at {url}")
    return url


def start_embedded_redis(folder: Path, url: str, services: Services, *, preferred_port: int,
                         durable: bool) -> str:
    server = EmbeddedRedis(folder, preferred_port=preferred_port, durable=durable)
    if server.start():
        services.started.append(server)
    url = with_port(url, server.port)
    say(f"Redis (embedded, data in {folder}) at {url}")
    return url


def for_run() -> Services:
    """`make run`: the configured services, or embedded ones for each URL that is unset."""
    services = Services(os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", ""))
    try:
        if not services.database_url:
            services.database_url = start_embedded_postgres(
                data_dir() / "postgres", "postgres://postgres@127.0.0.1/centralino", services,
                preferred_port=RUN_POSTGRES_PORT, durable=True)
        if not services.redis_url:
            services.redis_url = start_embedded_redis(data_dir() / "redis", "redis://127.0.0.1/0", services,
                                                      preferred_port=RUN_REDIS_PORT, durable=True)
    except BaseException:
        services.stop()
        raise
    return services


def for_tests(database_url: str, redis_url: str) -> Services:
    """`make test`: the given services when they answer; else Debian's (started) or embedded ones."""
    if not database_url or not redis_url:
        raise EmbeddedServiceError("DATABASE_URL and REDIS_URL must be set (the Makefile gives defaults)")
    services = Services(database_url, redis_url)
    try:
        if not postgres_answers(database_url):
            services.database_url = replace_postgres(database_url, services)
        elif is_local(database_url):
            ensure_database(database_url)
        if not redis_answers(redis_url):
            services.redis_url = replace_redis(redis_url, services)
    except BaseException:
        services.stop()
        raise
    return services


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def replace_postgres(url: str, services: Services) -> str:
    parts = urlsplit(url)
    if not is_local(url):
        raise EmbeddedServiceError(f"PostgreSQL at {parts.hostname}:{parts.port} does not answer "
                                   "(a remote DATABASE_URL is never replaced by an embedded server)")
    if (parts.port or DEBIAN_POSTGRES_PORT) == DEBIAN_POSTGRES_PORT and shutil.which("pg_ctlcluster"):
        say("starting the machine's PostgreSQL (pg_ctlcluster)")
        for version in sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []:
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
        if wait_until(lambda: postgres_answers(url)):
            ensure_database(url)
            return url
    say(f"no PostgreSQL answers at {parts.hostname}:{parts.port or DEBIAN_POSTGRES_PORT}: using an embedded one")
    return start_embedded_postgres(data_dir() / "test" / "postgres", url, services, preferred_port=0,
                                   durable=False)


def replace_redis(url: str, services: Services) -> str:
    parts = urlsplit(url)
    if not is_local(url):
        raise EmbeddedServiceError(f"Redis at {parts.hostname}:{parts.port} does not answer "
                                   "(a remote REDIS_URL is never replaced by an embedded server)")
    if (parts.port or DEBIAN_REDIS_PORT) == DEBIAN_REDIS_PORT and shutil.which("redis-server"):
        say("starting the machine's Redis (redis-server)")
        for folder in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(folder, exist_ok=True)
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port",
                        str(DEBIAN_REDIS_PORT), "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                        "--logfile", "/var/log/redis/ci.log"], check=False)
        if wait_until(lambda: redis_answers(url)):
            return url
    say(f"no Redis answers at {parts.hostname}:{parts.port or DEBIAN_REDIS_PORT}: using an embedded one")
    return start_embedded_redis(data_dir() / "test" / "redis", url, services, preferred_port=0, durable=False)


def wait_until(check: Callable[[], bool], timeout: float = SERVICE_START_WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run `command` to its end. Ctrl-C reaches it directly (same terminal); a SIGTERM sent to us only is
    passed on, so that the services are stopped after the command, never under it."""
    child = subprocess.Popen(command, env=env)
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    return child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcenter.services", description=__doc__.split("\n")[0])
    parser.add_argument("--tests", action="store_true",
                        help="make test's rules: use the given URLs, start Debian's or embedded services if down")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run (after --)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    load_env_file()
    try:
        if args.tests:
            services = for_tests(os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", ""))
        else:
            services = for_run()
    except EmbeddedServiceError as exc:
        say(f"error: {exc}")
        return 1
    try:
        return run_command(command, services.env())
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
