"""`linker serve`: the dashboard server's life cycle as an operator sees it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from linker import store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_stopping_linker_serve_with_sigterm_stops_the_dashboard_server(tmp_path):
    db = tmp_path / "s.duckdb"
    store.connect(db).close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "linker", "serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert proc.poll() is None, "linker serve exited before listening"
            assert time.monotonic() < deadline, "the dashboard did not start listening within 60 s"
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while listening(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not listening(port), "the Streamlit server outlived linker serve"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_server_is_started_without_usage_statistics():
    from linker.serve import command

    cmd = command("store.duckdb", 8501)
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
