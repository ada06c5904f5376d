"""Helpers for plugin authors: run ``mtrun`` and look at what it did, like pytest's pytester.

    from threaded_order_cli.testing import run_mtrun

    def test_my_plugin(tmp_path):
        (tmp_path / "test_x.py").write_text("from threaded_order import dmark\\n"
                                            "@dmark()\\ndef test_ok(): pass\\n")
        result = run_mtrun(tmp_path / "test_x.py", cwd=tmp_path)
        assert result.ret == 0
        result.assert_outcomes(passed=1)

``run_mtrun(*args, cwd=None, env=None, in_process=False, timeout=TIMEOUT, autoload=None,
pythonpath=(), script=False)`` runs mtrun to its end, in a subprocess (isolated, the
default) or in-process (faster; the test modules stay imported), and returns a
``RunResult``: ``ret``, ``stdout``, ``stderr``, ``outcomes()`` and ``assert_outcomes()``.

``spawn_mtrun(*args, ...)`` starts mtrun and returns at once a ``MtrunProcess`` to drive
while it runs: ``wait_for(text)`` (a line on its stderr or stdout), ``wait_for_file(path)``,
``send_line()`` (to its stdin), ``send_signal()``, then ``finish()`` for the ``RunResult``.
``tty=True`` puts its stdout and stderr on a pseudo-terminal, as in a terminal window
(POSIX). Use it in a ``with`` block: a process still running at the end is killed.

Both take ``env`` (added to this environment; a ``None`` value removes the variable),
``autoload`` (``False`` keeps installed plugins out, ``True`` lets them in, ``None`` leaves
``THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD`` as it is), ``pythonpath`` (folders put first on
the import path, for ``-p module`` plugins of your own) and ``script`` (run the installed
``mtrun`` script, which unlike ``python -m`` does not put the current folder on sys.path).
``mtrun_command()`` and ``mtrun_env()`` give the same command line and environment for a
process you start yourself. Every wait gives up after ``timeout`` (``TIMEOUT`` seconds unless
told) with an ``AssertionError`` that shows the output, so a hang fails the test (a run that
does not end raises ``MtrunHung``, which is also a ``subprocess.TimeoutExpired``).

``parse_outcomes(output)`` reads the final summary line (``SUMMARY``), ignoring colours
(``ANSI``, ``strip_ansi()``).
"""

from __future__ import annotations

import contextlib
import io
import locale
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional, Union

from ._child_io import ChildOutput, child_setup, open_tty

__all__ = ["ANSI", "SUMMARY", "TIMEOUT", "MtrunHung", "MtrunProcess", "RunResult",
           "mtrun_command", "mtrun_env", "parse_outcomes", "run_mtrun", "spawn_mtrun",
           "strip_ansi"]

# Seconds any wait on mtrun may take unless told: far more than a run needs, so that only
# a hang reaches it. SUMMARY: the line mtrun's report ends with; ANSI: one colour code.
TIMEOUT = 60.0
SUMMARY = re.compile(r"^==== (\d+) passed, (\d+) failed, (\d+) skipped"
                     r"(?:, (\d+) xfailed)?(?:, (\d+) xpassed)? in \d+\.\d\ds ====$", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")

_NO_AUTOLOAD = "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD"
_TAIL = 4000  # characters of each stream shown when a wait fails

PathLike = Union[str, "os.PathLike[str]"]
Env = Mapping[str, Optional[str]]
Folders = Union[PathLike, Iterable[PathLike]]


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def parse_outcomes(output: str, *, final: bool = False) -> dict[str, int]:
    """``{"passed": n, "failed": n, "skipped": n}`` from the last summary line of
    ``output``, with ``"xfailed"`` and ``"xpassed"`` when the line shows them (as pytest's
    ``parseoutcomes``, only when not 0); empty when there is none, or with ``final`` when
    it is not the last line."""
    text = strip_ansi(output).replace("\r\n", "\n")  # a terminal's line ends too
    if final:
        text = text.rstrip("\n").rsplit("\n", 1)[-1]
    matches = SUMMARY.findall(text)
    if not matches:
        return {}
    counts = dict(zip(("passed", "failed", "skipped", "xfailed", "xpassed"), matches[-1]))
    return {key: int(value) for key, value in counts.items() if value}


class RunResult(NamedTuple):
    """Exit code and output of one mtrun run."""

    ret: int
    stdout: str
    stderr: str

    def outcomes(self, *, final: bool = False) -> dict[str, int]:
        """The counts from the summary line on stdout (see ``parse_outcomes``)."""
        return parse_outcomes(self.stdout, final=final)

    def assert_outcomes(self, passed: int = 0, failed: int = 0, skipped: int = 0,
                        xfailed: int = 0, xpassed: int = 0) -> None:
        expected = {"passed": passed, "failed": failed, "skipped": skipped, "xfailed": xfailed,
                    "xpassed": xpassed}
        actual = {"xfailed": 0, "xpassed": 0, **self.outcomes()}
        assert actual == expected, f"{actual} != {expected}\n--- stdout\n{self.stdout}\n" \
                                   f"--- stderr\n{self.stderr}"


class MtrunHung(subprocess.TimeoutExpired, AssertionError):
    """mtrun did not end in time and was killed: a failed test, as an AssertionError."""

    def __init__(self, cmd: list[str], timeout: float, message: str) -> None:
        super().__init__(cmd, timeout)
        self.message = message

    def __str__(self) -> str:
        return self.message


def mtrun_command(*args: PathLike, script: bool = False) -> list[str]:
    """``python -m threaded_order_cli ARGS``, or with ``script`` the ``mtrun`` script."""
    rest = [os.fspath(a) for a in args]
    if script:
        name = "mtrun.exe" if sys.platform == "win32" else "mtrun"
        return [str(Path(sys.executable).with_name(name)), *rest]
    return [sys.executable, "-m", "threaded_order_cli", *rest]


def mtrun_env(env: Optional[Env] = None, *, autoload: Optional[bool] = None,
              pythonpath: Folders = ()) -> dict[str, str]:
    """This process's environment with ``env``, ``autoload`` and ``pythonpath`` applied."""
    full = dict(os.environ)
    for key, value in _overrides(env, autoload, pythonpath).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return full


def _folders(pythonpath: Folders) -> list[str]:
    if isinstance(pythonpath, (str, os.PathLike)):
        return [os.fspath(pythonpath)]
    return [os.fspath(p) for p in pythonpath]


def _overrides(env: Optional[Env], autoload: Optional[bool],
               pythonpath: Folders) -> dict[str, Optional[str]]:
    changes: dict[str, Optional[str]] = dict(env or {})
    if autoload is not None:
        changes[_NO_AUTOLOAD] = "" if autoload else "1"
    folders = _folders(pythonpath)
    if folders:
        before = changes.get("PYTHONPATH", os.environ.get("PYTHONPATH"))
        changes["PYTHONPATH"] = os.pathsep.join([*folders, *([before] if before else [])])
    return changes


def run_mtrun(*args: PathLike, cwd: Optional[PathLike] = None, env: Optional[Env] = None,
              in_process: bool = False, timeout: float = TIMEOUT,
              autoload: Optional[bool] = None, pythonpath: Folders = (),
              script: bool = False) -> RunResult:
    """Run mtrun with ``args`` to its end, in a subprocess (the default, fully isolated) or
    in-process (faster; the target modules stay imported)."""
    if in_process:
        if script:
            raise ValueError("script=True needs a subprocess, not in_process=True")
        return _in_process([os.fspath(a) for a in args], cwd, _overrides(env, autoload, ()),
                           _folders(pythonpath))
    with spawn_mtrun(*args, cwd=cwd, env=env, autoload=autoload, pythonpath=pythonpath,
                     script=script, stdin=False) as process:
        return process.finish(timeout)


def spawn_mtrun(*args: PathLike, cwd: Optional[PathLike] = None, env: Optional[Env] = None,
                autoload: Optional[bool] = None, pythonpath: Folders = (),
                script: bool = False, stdin: bool = True, stdout: Optional[int] = None,
                tty: bool = False, tty_size: tuple[int, int] = (40, 120),
                new_session: bool = False, ignore_signals: Iterable[int] = (),
                preexec_fn: Optional[Callable[[], None]] = None) -> MtrunProcess:
    """Start mtrun and return at once. ``stdin``: a pipe for ``send_line`` (else
    /dev/null); ``stdout``: a file descriptor to give it instead of a pipe read here;
    ``tty``: stdout and stderr on one pseudo-terminal of ``tty_size`` (rows, columns);
    ``new_session``: its own process group, for ``send_signal(group=True)``;
    ``ignore_signals``: signals it starts with ignored (SIGINT is always reset to its
    default: a background job would inherit it ignored); ``preexec_fn``: run in the child
    before mtrun."""
    command = mtrun_command(*args, script=script)
    full_env = mtrun_env(env, autoload=autoload, pythonpath=pythonpath)
    encoding = full_env.get("PYTHONIOENCODING", "").split(":")[0] or \
        locale.getpreferredencoding(False)
    master, slave = open_tty(tty_size) if tty else (-1, -1)
    out: Any = slave if tty else (subprocess.PIPE if stdout is None else stdout)
    try:
        proc = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdin=subprocess.PIPE if stdin else
            subprocess.DEVNULL, stdout=out, stderr=slave if tty else subprocess.PIPE,
            start_new_session=new_session,
            preexec_fn=child_setup(tuple(ignore_signals), preexec_fn))
    except BaseException:
        if tty:
            os.close(master)
        raise
    finally:
        if tty:
            os.close(slave)
    return MtrunProcess(proc, command, encoding, new_session, tty=master if tty else None)


class MtrunProcess:
    """A running mtrun (see ``spawn_mtrun``); ``proc`` is its ``subprocess.Popen``."""

    def __init__(self, proc: subprocess.Popen[bytes], command: list[str], encoding: str,
                 new_session: bool, tty: Optional[int] = None) -> None:
        self.proc, self.command, self.new_session = proc, command, new_session
        self._encoding = encoding
        self.out, self.err = ChildOutput(), ChildOutput()
        streams = [(self.out, proc.stdout), (self.err, proc.stderr)] if tty is None else \
            [(self.out, os.fdopen(tty, "rb", buffering=0)), (self.err, None)]
        self._pumps = []
        for output, stream in streams:
            if stream is None:  # on the terminal, or a descriptor the child was given
                output.end()
            else:
                self._pumps.append(threading.Thread(target=output.pump,
                                                    args=(stream, encoding), daemon=True))
                self._pumps[-1].start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> MtrunProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._close_stdin()

    def wait_for(self, text: str, stream: str = "stderr", timeout: float = TIMEOUT) -> str:
        """The next line of ``stream`` ("stdout" or "stderr") that contains ``text``; each
        call reads on from the line the previous one returned."""
        line = {"stdout": self.out, "stderr": self.err}[stream].next_with(
            text, time.monotonic() + timeout)
        if line is None:
            why = "it ended" if self.proc.poll() is not None else f"{timeout:g}s"
            raise AssertionError(f"no {text!r} on mtrun's {stream} before {why}\n"
                                 f"{self._shown()}")
        return line

    def wait_for_file(self, path: PathLike, timeout: float = TIMEOUT) -> str:
        """The text of ``path`` once the run has written it (not empty): a handshake with a
        task that writes a marker file."""
        deadline = time.monotonic() + timeout
        while True:
            ended = self.proc.poll() is not None
            with contextlib.suppress(OSError):
                text = Path(path).read_text(encoding="utf-8")
                if text:
                    return text
            if ended or time.monotonic() > deadline:
                why = "it ended" if ended else f"{timeout:g}s"
                raise AssertionError(f"{path} not written before {why}\n{self._shown()}")
            time.sleep(0.005)  # polling a file the child writes: a handshake, not a race

    def send_line(self, text: str = "") -> None:
        """Write ``text`` and a newline to mtrun's stdin (a task blocked reading it goes on)."""
        assert self.proc.stdin is not None, "spawned with stdin=False"
        self.proc.stdin.write(f"{text}\n".encode(self._encoding))
        self.proc.stdin.flush()

    def send_signal(self, signum: int, group: bool = False) -> None:
        """Send ``signum`` to mtrun, or with ``group`` to its whole process group, as a
        terminal's Ctrl-C does (needs ``new_session``)."""
        if not group:
            self.proc.send_signal(signum)
        elif not self.new_session:
            raise ValueError("group=True needs spawn_mtrun(..., new_session=True)")
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL mtrun (and its process group, with ``new_session``) and reap it."""
        if self.new_session and sys.platform != "win32":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()

    def finish(self, timeout: float = TIMEOUT) -> RunResult:
        """Wait for mtrun to end and its output to close; a run still going after
        ``timeout`` is killed and fails the test (``MtrunHung``)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self._join(timeout)
            raise MtrunHung(self.command, timeout, f"mtrun still running after {timeout:g}s "
                            f"(killed)\n{self._shown()}") from None
        finally:
            self._close_stdin()
        if not self._join(timeout):
            raise AssertionError(f"mtrun exited {code} but its output stayed open for "
                                 f"{timeout:g}s: a process it started holds it\n"
                                 f"{self._shown()}")
        return RunResult(code, self.out.text(), self.err.text())

    def _join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for pump in self._pumps:
            pump.join(max(0.0, deadline - time.monotonic()))
        return not any(pump.is_alive() for pump in self._pumps)

    def _close_stdin(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def _shown(self) -> str:
        return (f"--- stdout (end)\n{self.out.text()[-_TAIL:]}\n"
                f"--- stderr (end)\n{self.err.text()[-_TAIL:]}")


def _in_process(argv: list[str], cwd: Optional[PathLike], env: dict[str, Optional[str]],
                pythonpath: list[str]) -> RunResult:
    from .main import run

    out, err = io.StringIO(), io.StringIO()
    previous, path = os.getcwd(), list(sys.path)
    saved = {key: os.environ.get(key) for key in env}  # env applies here too, undone after
    try:
        _apply(env)
        sys.path[:0] = pythonpath
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: Any = run(argv)
    finally:
        os.chdir(previous)
        sys.path[:] = path
        _apply(saved)
    return RunResult(int(code), out.getvalue(), err.getvalue())


def _apply(env: Mapping[str, Optional[str]]) -> None:
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
