"""Stopping a run: on SIGINT or SIGTERM within seconds, and no process left behind.

- `stop_on_signals(message)`: from then on SIGINT (Ctrl-C) and SIGTERM, to this process or to
  its whole process group, print one line (`message(signal name)`), stop every child process
  (the Prefect server, pool workers, the resource tracker, Dask workers), discard the staged
  work of the output folders this process holds the lock of (`store.recover`: an unfinished
  run is deleted, a run past its commit point is completed) and exit 130 / 143 at once.
  Why not unwind normally: Prefect would spend a minute retrying its stopped server and print
  a traceback, holding the lock all along.
- `die_with_parent()` (a child's `preexec_fn`, Linux) and `watch_parent()` (a thread in pool
  workers): after SIGKILL of the main process, which can run no handler, its children end
  within a second or two instead of living on.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

import psutil

from casualties.storage import store

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_code(signum: int) -> int:
    """The shell's exit code for a process ended by `signum` (130 for SIGINT, 143 SIGTERM)."""
    return 128 + signum


def stop_on_signals(message: Callable[[str], str]) -> None:
    """Handle SIGINT and SIGTERM as the module docstring says (call from the main thread)."""

    def handler(signum: int, _frame) -> None:
        for sig in STOP_SIGNALS:  # a second signal must not interrupt the cleanup
            signal.signal(sig, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            sys.stderr.write(message(signal.Signals(signum).name) + "\n")
            sys.stderr.flush()
        _silence()  # Prefect's threads would log their failures to reach the stopped server
        stop_children()
        for out_dir in store.held_locks():
            with contextlib.suppress(Exception):
                store.recover(out_dir)
        _release_semaphores()
        os._exit(exit_code(signum))  # no atexit: Prefect's senders would retry for a minute

    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def _release_semaphores() -> None:
    # The process pools' semaphores are freed by multiprocessing's exit finalizers, which
    # os._exit skips; without this the resource tracker frees them itself and prints a
    # "leaked semaphore objects" warning after the stop message. (Priority >= 0 only: the
    # lower ones join queue threads, which could wait.)
    with contextlib.suppress(Exception):
        multiprocessing.util._run_finalizers(0)  # type: ignore[attr-defined]


def _silence() -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)


def stop_children(timeout: float = 3.0) -> None:
    """SIGTERM every descendant process (but the resource tracker), then SIGKILL those still
    alive after `timeout` s."""
    try:
        children = [p for p in psutil.Process().children(recursive=True) if not _tracker(p)]
    except psutil.Error:
        return
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=1.0)


def _tracker(process) -> bool:
    """multiprocessing's resource tracker: it ignores SIGTERM, and ends by itself (freeing
    what the workers left) once this process, which holds its pipe, is gone."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _prctl() if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """In a child between fork and exec (`subprocess.Popen(preexec_fn=...)`): ask Linux to send
    it SIGTERM when its parent dies. (Linux ties this to the parent *thread*: start such
    children from the main thread.) Elsewhere a no-op."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def watch_parent(interval: float = 1.0) -> None:
    """Start a daemon thread that ends this process when its parent is gone (any platform)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def call_interruptibly(fn: Callable, *args, **kwargs):
    """`fn(*args, **kwargs)` in a worker thread, the main thread waiting for it; returns its
    result or raises its exception.

    Why: Prefect's flow engine replaces the SIGTERM handler of the thread it runs in when that
    is the main thread, and unwinds a stopped run slowly (it reports the crash to a server
    that may be gone). Run elsewhere, the flow leaves the main thread's handlers alone: the
    main thread only waits, and `stop_on_signals` acts at once.
    """
    result: dict = {}
    context = contextvars.copy_context()  # settings in context variables (Prefect's) go along

    def target() -> None:
        try:
            result["value"] = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001  handed to the main thread
            result["error"] = exc

    worker = threading.Thread(target=target, name="casualties-run", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)  # short waits: a signal's handler runs between them
    if "error" in result:
        raise result["error"]
    return result["value"]
