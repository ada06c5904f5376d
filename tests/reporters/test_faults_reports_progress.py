"""While the progress bar is on a terminal, ``sys.stdout`` and ``sys.stderr`` are proxies:
code that writes bytes to ``sys.stdout.buffer``, asks ``fileno()``, ``encoding`` or
``isatty()`` must work as it does on the real streams."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from threaded_order_cli.testing import spawn_mtrun
from threaded_order_progress.routing import Router

from ._support import ENV, write_sample

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

STREAMS = '''\
import sys

from threaded_order import dmark


@dmark()
def test_bytes_and_stream_attributes():
    for stream in (sys.stdout, sys.stderr):
        assert stream.isatty() and stream.buffer.isatty()
        assert stream.fileno() == stream.buffer.fileno() >= 0
        assert stream.encoding and stream.errors
    sys.stdout.buffer.write(b"bytes-on-stdout\\n")
    sys.stdout.buffer.flush()
    caf = "caf\\u00e9-on-stderr\\n".encode(sys.stderr.encoding)
    sys.stderr.buffer.write(caf[:4])  # a character split across two writes
    sys.stderr.buffer.write(caf[4:])
'''


def on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run mtrun with stdout and stderr on a new pseudo-terminal; its code and output."""
    with spawn_mtrun(*args, cwd=cwd, env={**ENV, "TERM": "xterm"}, stdin=False, tty=True,
                     tty_size=(40, 120)) as run:
        result = run.finish()
    return result.ret, result.stdout


def test_a_task_writing_bytes_under_the_bar_passes(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_streams.py", STREAMS)
    code, output = on_a_terminal(["-s", "--reporter", "progress", "test_streams.py"], tmp_path)
    assert code == 0, output
    assert "1 passed, 0 failed" in output
    assert "bytes-on-stdout" in output and "caf\u00e9-on-stderr" in output


class Terminal(io.StringIO):
    """Stands for a terminal stream: all a proxy asks of it."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 1


def test_bytes_split_inside_a_character_come_out_whole() -> None:
    out = io.StringIO()
    router = Router(Console(file=out, force_terminal=True, width=80))
    proxy = router.proxy_for(Terminal())
    assert proxy is not None
    data = "na\u00efve line\n".encode()
    for i in range(len(data)):  # one byte at a time
        proxy.buffer.write(data[i:i + 1])
    proxy.buffer.write(b"unfinished \xc3")
    proxy.flush_pending()
    text = out.getvalue()
    assert "na\u00efve line" in text
    assert "unfinished \ufffd" in text  # a dangling half character is replaced, not lost
    assert proxy.buffer.fileno() == 1 and proxy.encoding == "utf-8" and proxy.errors
