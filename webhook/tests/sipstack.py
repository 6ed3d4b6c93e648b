"""Real SIP on loopback for the tests: the back office's web process, Kamailio rendered from the settings,
SIPp operator phones (UAS) and SIPp callers (UAC), each on a free port, stopped whole at the end."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from telephony.backends.sip.config import ProxySettings, write
from tests.processes import child_env

SCENARIOS = Path(__file__).with_name("sipp")
ROOT = Path(__file__).resolve().parents[2]


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port() -> int:
    """A port free for both UDP and TCP (SIPp's UAS binds both for some transports)."""
    while True:
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


def wait_listening(port: int, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} ended early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port}")


class SipStack:
    """One back office, one Kamailio, and the SIPp processes a test adds."""

    def __init__(self, **proxy_overrides) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="centralino-sip-"))
        self.token = secrets.token_hex(16)
        self.web_port, self.rpc_port, self.sip_port = free_port(), free_port(), free_udp_port()
        self.proxy = ProxySettings(**{
            "sip_addr": "127.0.0.1", "sip_port": self.sip_port, "rpc_addr": "127.0.0.1", "rpc_port": self.rpc_port,
            "token": self.token, "children": 2, "async_workers": 2,
            "backoffice_url": f"http://127.0.0.1:{self.web_port}/api/v1/telephony/sip", **proxy_overrides})
        self.processes: list[subprocess.Popen] = []
        self.web: subprocess.Popen | None = None
        self.kamailio: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {"TELEPHONY_BACKEND": "sip", "SIP_EDGE_TOKEN": self.token, "SIP_RPC_PORT": str(self.rpc_port),
                "SIP_PORT": str(self.sip_port), "DEBUG": "true"}

    def _spawn(self, args: list[str], log: str, **kw) -> subprocess.Popen:
        out = open(self.dir / log, "w")  # noqa: SIM115  (the process's whole life)
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.processes.append(process)
        return process

    def start(self) -> SipStack:
        """Everything up, or nothing left running: a start that fails (Kamailio refusing its configuration)
        stops what it had started, since the caller never gets a stack to stop."""
        try:
            self.web = self._spawn([sys.executable, "-m", "uvicorn", "callcenter.asgi:application", "--host",
                                    "127.0.0.1", "--port", str(self.web_port), "--lifespan", "off",
                                    "--no-access-log", "--timeout-keep-alive", "75"], "web.log", cwd=ROOT,
                                   env=child_env(**self.env()))
            self.start_proxy()
            wait_listening(self.web_port, self.web, "the web process")
            self.warm_up()
        except BaseException:
            self.stop()
            raise
        return self

    def warm_up(self) -> None:
        """One request before the first call: the web process loads its URLs and opens its database connection
        (seconds on a loaded machine, which Kamailio's HTTP timeout would count against the first INVITE)."""
        request = urllib.request.Request(f"{self.proxy.backoffice_url}/report/", data=b"{}", method="POST")
        with contextlib.suppress(urllib.error.HTTPError):  # 403 without the token: the process answered
            urllib.request.urlopen(request, timeout=60).close()

    def start_proxy(self) -> None:
        cfg = write(self.proxy, self.dir / "kamailio.cfg")
        self.kamailio = self._spawn(["kamailio", "-f", str(cfg), "-DD", "-E", "-Y", str(self.dir),
                                     "-m", "64", "-M", "8"], "kamailio.log")
        wait_listening(self.rpc_port, self.kamailio, "kamailio")
        self.wait_rpc()

    def wait_rpc(self, seconds: float = 30) -> None:
        """Until Kamailio's JSON-RPC answers: its TCP port listens before its workers take requests (on a
        loaded machine a first request can meet a reset)."""
        body = b'{"jsonrpc": "2.0", "method": "core.uptime", "id": 1}'
        deadline = time.time() + seconds
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{self.rpc_port}/RPC", data=body, method="POST")
                urllib.request.urlopen(request, timeout=5).close()
                return
            except OSError:
                if time.time() > deadline or self.kamailio.poll() is not None:
                    raise
                time.sleep(0.2)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: the process says nothing more (no BYE, no report)."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart_proxy(self) -> None:
        """Kamailio killed and started again: its dialogs and its report queue are gone with it."""
        self.kill(self.kamailio)
        self.start_proxy()

    def log(self, name: str) -> str:
        path = self.dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def phone(self, behaviour: str = "operator", *, ring_ms: int = 0, code: int = 486) -> tuple[str, subprocess.Popen]:
        """An operator's phone (SIPp UAS): `operator` answers after ring_ms, `operator_silent` never
        answers, `operator_busy` answers every call with `code`. Returns its SIP URI and process."""
        port = free_udp_port()
        args = ["sipp", "-sf", str(SCENARIOS / f"{behaviour}.xml"), "-i", "127.0.0.1", "-p", str(port),
                "-d", str(ring_ms), "-key", "code", str(code), "-nostdin", "-nd",
                "-trace_err", "-error_file", str(self.dir / f"uas-{port}.err")]
        process = self._spawn(args, f"uas-{port}.log")
        time.sleep(0.1)
        return f"sip:op@127.0.0.1:{port}", process

    def call(self, dialed: str, *, talk_ms: int = 1000, caller: str = "+393331234567", display: str = "Caller",
             wait: bool = True, tag: str = "c", scenario: str = "caller") -> subprocess.Popen:
        """A caller (SIPp UAC, one call) dialling `dialed` through the proxy, talking talk_ms once answered;
        its messages go to <tag>-messages.log."""
        port = free_udp_port()
        args = ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", str(SCENARIOS / f"{scenario}.xml"), "-s", dialed,
                "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-d", str(talk_ms), "-key", "caller", caller,
                "-key", "display", display, "-nostdin", "-timeout", "60s", "-trace_msg",
                "-message_file", str(self.dir / f"{tag}-messages.log"), "-trace_stat", "-stf",
                str(self.dir / f"{tag}-stat.csv")]
        process = self._spawn(args, f"{tag}.log")
        if wait:
            process.wait(timeout=90)
        return process

    def register(self, login: str, domain: str, password: str, contact: str, *, expires: int = 300,
                 tag: str = "reg") -> str:
        """An operator's phone registering (SIPp UAC, digest authentication) `contact` as login@domain;
        returns the final answer's status line ('SIP/2.0 200 OK', 'SIP/2.0 403 Forbidden', …)."""
        port = free_udp_port()
        args = ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", str(SCENARIOS / "register.xml"), "-i", "127.0.0.1",
                "-p", str(port), "-m", "1", "-au", login, "-ap", password, "-key", "login", login,
                "-key", "domain", domain, "-key", "contact", contact, "-key", "expires", str(expires),
                "-nostdin", "-timeout", "30s", "-trace_msg", "-message_file", str(self.dir / f"{tag}-messages.log")]
        self._spawn(args, f"{tag}.log").wait(timeout=60)
        answers = [line for line in self.log(f"{tag}-messages.log").splitlines() if line.startswith("SIP/2.0 ")]
        return answers[-1].strip() if answers else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
