"""prefect.yaml really describes servable deployments of the pipeline flow (no server needed)."""

from __future__ import annotations

import os

import pytest

from tests.paths import REPO

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def test_prefect_yaml_deployments_have_schedules_and_parameters():
    from flows.serve import build_deployments

    deployments = {d.name: d for d in build_deployments(REPO / "prefect.yaml")}
    assert set(deployments) == {"incremental", "nightly-rebuild"}
    incremental = deployments["incremental"]
    assert incremental.entrypoint.endswith("flows/pipeline.py:pipeline")
    assert incremental.parameters["raw_dir"] == "raw"
    assert incremental.parameters["full_refresh"] is False
    assert deployments["nightly-rebuild"].parameters["full_refresh"] is True
    crons = [s.schedule.cron for s in incremental.schedules]
    assert crons == ["17 * * * *"]


def test_unknown_deployment_name_is_an_error(tmp_path):
    from flows.serve import load_specs

    with pytest.raises(ValueError, match="no deployment named nope"):
        load_specs(REPO / "prefect.yaml", ["nope"])
    empty = tmp_path / "prefect.yaml"
    empty.write_text("name: x\n")
    with pytest.raises(ValueError, match="no deployments"):
        load_specs(empty)
