"""Serve the deployments of `prefect.yaml` with their schedules (`casualties serve`).

Schedules need Prefect's scheduler service, which the embedded (ephemeral) server does not run
("Cannot schedule flows on an ephemeral server"). So without `PREFECT_API_URL` this starts a
local Prefect server as a child process (SQLite under PREFECT_HOME, analytics off, loopback
only), serves the deployments against it, and stops it on exit. With `PREFECT_API_URL` (or
`api_url`) it uses that server instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import yaml


def load_specs(config: Path, names: list[str] | None = None) -> list[dict]:
    """The deployment entries of `config` (YAML anchors from `definitions:` resolved)."""
    data = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    specs = [d for d in data.get("deployments") or [] if isinstance(d, dict)]
    if names:
        unknown = set(names) - {d.get("name") for d in specs}
        if unknown:
            raise ValueError(f"no deployment named {', '.join(sorted(unknown))} in {config}")
        specs = [d for d in specs if d.get("name") in names]
    if not specs:
        raise ValueError(f"no deployments in {config}")
    return specs


def build_deployments(config: Path, names: list[str] | None = None) -> list:
    """RunnerDeployments for `flow.serve`/`prefect.serve` from the entries of `config`."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron, Interval

    root = Path(config).resolve().parent
    deployments = []
    for spec in load_specs(config, names):
        path, _, func = spec["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(f"{root / path}:{func}")
        schedules = []
        for s in spec.get("schedules") or []:
            if not s.get("active", True):
                continue
            if "cron" in s:
                schedules.append(Cron(s["cron"], timezone=s.get("timezone", "UTC")))
            elif "interval" in s:
                schedules.append(Interval(s["interval"], timezone=s.get("timezone", "UTC")))
        deployments.append(
            flow.to_deployment(
                name=spec["name"],
                schedules=schedules,
                parameters=spec.get("parameters") or {},
                tags=spec.get("tags") or [],
                description=spec.get("description"),
                version=spec.get("version"),
            )
        )
    return deployments


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_server(timeout: float = 120.0) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 for the duration of the block; yields its API URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise OSError(f"the local Prefect server exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise OSError(f"the local Prefect server did not answer within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_deployments(
    config: Path, names: list[str] | None = None, api_url: str | None = None
) -> int:
    """Serve the deployments of `config` until interrupted; returns an exit code."""
    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    load_specs(config, names)  # fail fast on a bad file, before starting anything
    url = api_url or os.environ.get("PREFECT_API_URL")
    with contextlib.ExitStack() as stack:
        if not url:
            print("Starting a local Prefect server (schedules need its scheduler)...", flush=True)
            url = stack.enter_context(local_server())
            print(f"Prefect UI and API at {url.removesuffix('/api')}", flush=True)
        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: url}))
        deployments = build_deployments(config, names)
        for d in deployments:
            crons = ", ".join(
                str(getattr(getattr(s, "schedule", s), "cron", s)) for s in d.schedules or []
            )
            print(f"Serving deployment {d.name} (schedules: {crons or 'none'})", flush=True)
        serve(*deployments)
    return 0
