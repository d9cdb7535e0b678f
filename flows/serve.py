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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from flows.local_server import local_server

if TYPE_CHECKING:
    from prefect import Flow


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
        flow: Flow[..., Any] = load_flow_from_entrypoint(f"{root / path}:{func}")
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
