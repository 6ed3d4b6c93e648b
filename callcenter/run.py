"""`make run`: the whole system on one machine, with production's processes.

PostgreSQL and Redis are the ones in DATABASE_URL/REDIS_URL, or embedded servers (callcenter.services); then
the migrations, the demo account, and the processes of the `Procfile` (web, Celery worker, Celery beat, and the
demo floor when DEMO_SIMULATION=1) under honcho. When one process ends, honcho stops the others; this module then
says which one ended the run and why, with its last lines, and stops the embedded servers it started.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, NoReturn

from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Message, Printer

from callcenter.embedded import EmbeddedServiceError
from callcenter.services import BASE_DIR, Services, data_dir, for_run, load_env_file, say

PROCFILE = BASE_DIR / "Procfile"
DEMO_PROCESS = "demo"
LAST_LINES = 20
SIGNAL_CAUSES = {signal.SIGKILL: "the kernel's out-of-memory killer, or someone's `kill -9`",
                 signal.SIGSEGV: "a crash in native code", signal.SIGTERM: "someone's `kill`"}


class ExitReporter(Printer):
    """Honcho's printer that also keeps each process's last lines and notes which process stopped first on its
    own (before any Ctrl-C or SIGTERM), from honcho's `<name> stopped (rc=N)` line."""

    STOPPED = re.compile(r"^(?P<name>\S+) stopped \(rc=(?P<rc>-?\d+)\)$")
    SHUTDOWN = re.compile(r"^SIG(INT|TERM) received$")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_lines: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=LAST_LINES))
        self.first_exit: tuple[str, int] | None = None
        self.shutting_down = False

    def write(self, message: Message) -> None:
        super().write(message)
        text = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
        if message.name != "system":
            self.last_lines[message.name].extend(text.splitlines())
            return
        text = text.strip()
        if self.SHUTDOWN.match(text):
            self.shutting_down = True
        stopped = self.STOPPED.match(text)
        if stopped and self.first_exit is None and not self.shutting_down:
            self.first_exit = (stopped["name"], int(stopped["rc"]))


def why(returncode: int) -> str:
    """An exit status in words: a code, or the signal that killed the process (directly or under its shell)."""
    if returncode == 0:
        return "finished on its own (exit status 0)"
    number = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if number:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        cause = SIGNAL_CAUSES.get(number)
        return f"was killed by {name}" + (f" ({cause})" if cause else "")
    return f"exited with status {returncode}"


def explain(reporter: ExitReporter) -> None:
    if reporter.first_exit is None:
        return
    name, returncode = reporter.first_exit
    lines = "\n".join(f"    {line}" for line in reporter.last_lines[name]) or "    (it printed nothing)"
    sys.stdout.write(f"\nCentralino stopped: the process '{name}' {why(returncode)}. Its last output:\n{lines}\n"
                     "The other processes were stopped with it (honcho stops all when one ends). "
                     "Fix the cause above and run `make run` again.\n")
    sys.stdout.flush()


def process_names(demo: bool = True) -> list[str]:
    names = list(parse_procfile(PROCFILE.read_text()).processes)
    if not demo or os.environ.get("DEMO_SIMULATION", "1") != "1":
        names.remove(DEMO_PROCESS)
    return names


def run_procfile(env: dict[str, str], demo: bool) -> int:
    """Every selected process of the Procfile under honcho, until one ends or we are told to stop."""
    commands = parse_procfile(PROCFILE.read_text()).processes
    reporter = ExitReporter(sys.stdout)
    manager = Manager(printer=reporter)
    for name in process_names(demo):
        manager.add_process(name, commands[name], env=env, cwd=str(BASE_DIR))
    manager.loop()
    explain(reporter)
    return manager.returncode or 0


def demo_mode(services: Services) -> bool:
    """The demo (superuser `admin`, the fixed public API token, DEBUG, the demo floor) is for a laptop: on when
    DEMO=1, off when DEMO=0, and when unset on exactly when this run started an embedded server. A run on a
    deployment's own PostgreSQL and Redis never creates the demo logins unless asked."""
    asked = os.environ.get("DEMO", "").strip().lower()
    if asked:
        return asked in ("1", "true", "yes", "on")
    return bool(services.started)


def demo_env(env: dict[str, str]) -> dict[str, str]:
    """The demo's development footing: DEBUG on and a secret key kept in the data folder (stable sessions
    between runs), unless the environment sets them."""
    key_file = data_dir() / "secret_key"
    if not env.get("SECRET_KEY"):
        if not key_file.is_file():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env = {**env, "SECRET_KEY": key_file.read_text().strip()}
    return {"DEBUG": "true", **env}


def prepare(env: dict[str, str], *, demo: bool) -> None:
    """Migrations and, in the demo mode only, the demo account (idempotent). The compiled translations are
    committed (`make messages` makes them): running the system never rewrites a file of the work tree."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, cwd=BASE_DIR, check=True)
    if env.get("DEBUG", "").strip().lower() not in ("1", "true", "yes", "on"):
        # Without DEBUG the web process serves STATIC_ROOT (WhiteNoise's hashed names): collect it first.
        subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], env=env, cwd=BASE_DIR, check=True)
    if demo:
        subprocess.run([*manage, "loaddemo"], env=env, cwd=BASE_DIR, check=True)


def banner(env: dict[str, str], demo: bool) -> None:
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8000")
    sys.stdout.write(f"""
Centralino is starting ({", ".join(process_names(demo))}):
  Admin (six-step setup):  http://{host}:{port}/admin/
  Operator console:        http://{host}:{port}/console/{"   (company code demo, login mario)" if demo else ""}
  Supervisor wallboard:    http://{host}:{port}/wallboard/
  API docs:                http://{host}:{port}/api/docs/
  DATABASE_URL={env["DATABASE_URL"]}
  REDIS_URL={env["REDIS_URL"]}
{"Logins are printed above (password: " + env.get("DEMO_PASSWORD", "centralino-demo") + ")." if demo else
 "No demo logins (DEMO=1 creates them): `manage.py createsuperuser` makes the first."} Ctrl-C stops everything.

""")
    sys.stdout.flush()


def stop_on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)  # before honcho's loop: unwind, stopping the services
    load_env_file()
    try:
        services = for_run()
    except EmbeddedServiceError as exc:
        say(f"error: {exc}")
        return 1
    try:
        # The Procfile says `python`, `celery`…: this interpreter's environment first.
        env = {**services.env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONUNBUFFERED": "1"}
        demo = demo_mode(services)
        if demo:
            env = demo_env(env)
        prepare(env, demo=demo)
        banner(env, demo)
        return run_procfile(env, demo)
    except subprocess.CalledProcessError as exc:
        say(f"error: `{' '.join(exc.cmd[1:])}` failed with status {exc.returncode} (its output is above)")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave the servers running
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
