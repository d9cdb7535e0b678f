"""A Prefect server on 127.0.0.1 as a child process (`prefect server start`), for one command.

- `casualties serve` needs one for schedules: the embedded (ephemeral) server has no scheduler.
- `casualties run` starts one without services or UI *before* it imports the flow, pandera and
  Great Expectations. Prefect would otherwise start its embedded server on the flow's first API
  call, after those ~4 s of imports, and the server's own ~5 s start would follow them; started
  first, the two overlap. Dask workers (other processes) use the same server through
  `PREFECT_API_URL`.

With `PREFECT_API_URL` set (the user's server, or `prefect_test_harness`) nothing is started.
The database is Prefect's usual SQLite file under `PREFECT_HOME`, as with the embedded server.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

from casualties.runtime.stop import die_with_parent

# "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*:")


class ServerDidNotStart(OSError):
    """The local server exited, or did not answer in time; the message says which."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """`prefect server start` on a free loopback port; `start` returns at once, `wait_ready`
    blocks until the API answers."""

    def __init__(self, services: bool = True):
        self.services = services
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self._process: subprocess.Popen | None = None
        # The server's stderr, shown if it fails; closed by stop().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    def start(self) -> LocalServer:
        """Launch the server process (does not wait for it)."""
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port)]
        if not self.services:
            # Flow runs need only the API; the scheduler and other loops would just cost CPU.
            cmd += ["--no-services", "--no-ui"]
        # It ends with this process, even if this one is killed by SIGKILL (Linux).
        self._process = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=die_with_parent,  # noqa: PLW1509  called before threads start
        )
        return self

    def wait_ready(self, timeout: float | None = None) -> str:
        """Block until the API answers its health check; returns the API URL.

        Raises ServerDidNotStart, with the end of the server's error output, if it exits or does not
        answer within `timeout` seconds (default: PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        else 90: a busy 2-core machine can take a while).
        """
        assert self._process is not None, "start() first"
        if timeout is None:
            timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 90))
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise ServerDidNotStart(
                    f"the local Prefect server exited with code {self._process.returncode}"
                    f"{self._stderr_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerDidNotStart(
                    f"the local Prefect server did not answer within {timeout:.0f} s"
                    f"{self._stderr_tail()}"
                )
            time.sleep(0.1)

    def _stderr_tail(self) -> str:
        """The server's error in one line: its last exception line, else its last line."""
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", errors="replace").splitlines()
        lines = [line.strip() for line in lines if line.strip()]
        errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
        last = (errors or lines or [""])[-1]
        return f": {last[:500]}" if last else ""

    def stop(self) -> None:
        """Terminate the server (killed if it does not stop within 20 s)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._log.close()


@contextlib.contextmanager
def local_server(timeout: float | None = None, services: bool = True) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 for the duration of the block; yields its API URL."""
    server = LocalServer(services).start()
    try:
        yield server.wait_ready(timeout)
    finally:
        server.stop()


@contextlib.contextmanager
def api_for_run() -> Iterator[LocalServer | None]:
    """Within the block Prefect talks to the configured API or, without one, to a local server
    (API only) started on entry and stopped on exit. Yields that server (None when an API is
    configured): call its `wait_ready()` before the first flow run. In between, the caller
    imports what it needs while the server starts.

    The URL is set in this process's settings and in `os.environ` (for child processes such
    as local Dask workers).
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield None
        return
    server = LocalServer(services=False).start()
    os.environ["PREFECT_API_URL"] = server.url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.url}):
            try:
                yield server
            finally:
                _send_pending()
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _send_pending(timeout: float = 5.0) -> None:
    """Send the run's last log lines and events while the server is still up. Why: Prefect's
    background senders would otherwise retry against the stopped server for over a minute
    at exit."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout)
