"""`make run` says which process ended the run and why, from honcho's own messages."""

from __future__ import annotations

import datetime as dt
import io
import signal

import pytest
from honcho.printer import Message

from callcenter.run import ExitReporter, explain, why


def message(name: str, text: str) -> Message:
    return Message(type="line", data=text.encode(), time=dt.datetime(2026, 1, 1), name=name, colour=None)


@pytest.mark.parametrize(("returncode", "said"), [
    (1, "exited with status 1"),
    (0, "finished on its own (exit status 0)"),
    (-signal.SIGKILL, "was killed by SIGKILL (the kernel's out-of-memory killer, or someone's `kill -9`)"),
    (128 + signal.SIGKILL, "was killed by SIGKILL"),  # as the Procfile's shell reports a killed child
    (-signal.SIGSEGV, "was killed by SIGSEGV (a crash in native code)"),
])
def test_an_exit_status_in_words(returncode, said):
    assert why(returncode).startswith(said)


def test_the_first_process_to_stop_is_named_with_its_last_lines(capsys):
    reporter = ExitReporter(io.StringIO())
    reporter.write(message("web", "INFO: Uvicorn running\n"))
    reporter.write(message("demo", "Traceback (most recent call last):\n  File x\nOperationalError: gone\n"))
    reporter.write(message("system", "demo stopped (rc=1)\n"))
    reporter.write(message("system", "sending SIGTERM to web (pid 7)\n"))
    reporter.write(message("system", "web stopped (rc=-15)\n"))
    explain(reporter)
    said = capsys.readouterr().out
    assert "the process 'demo' exited with status 1. Its last output:" in said
    assert "    OperationalError: gone" in said
    assert "Uvicorn" not in said  # the other processes' lines are theirs


def test_a_ctrl_c_is_not_reported_as_a_process_dying(capsys):
    reporter = ExitReporter(io.StringIO())
    reporter.write(message("system", "SIGINT received\n"))
    reporter.write(message("system", "demo stopped (rc=-15)\n"))
    explain(reporter)
    assert reporter.first_exit is None
    assert capsys.readouterr().out == ""
