"""The same flow on Dask: a real 2-worker LocalCluster gives the default runner's extraction."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import build_task_runner

# Our own wire-style articles, in two files: one batch per file, so both workers can get work.
ARTICLES = [
    "Two people were killed and five injured when a bus hit a roadside bomb near the market.",
    "Police said at least 12 protesters were arrested on Monday. Three officers were hurt.",
    "An air strike killed 7 fighters, a spokesman said. Residents said dozens fled their homes.",
    "Gunmen abducted four aid workers on the highway on Sunday, officials said.",
    "Shelling wounded 30 civilians, including 9 children, the health ministry said on Tuesday.",
    "Rescuers found the bodies of 3 fishermen. Two more remain missing after the storm.",
    "A suicide bomber killed at least 21 people at a checkpoint, the interior ministry said.",
    "Clashes between rival groups left between 10 and 15 dead, according to local medics.",
    "More than 200 families were displaced by the fighting, an aid agency said on Friday.",
    "The attack on the convoy killed six soldiers and wounded 11 others, the army said.",
    # an implausible count: quarantined as a figure on every runner, the article kept
    "A leaflet claimed 12345678901234567890 people were killed; 3 were wounded, medics said.",
]


def test_runner_choice():
    assert isinstance(build_task_runner("local"), ThreadPoolTaskRunner)
    from prefect_dask import DaskTaskRunner

    local_cluster = build_task_runner("dask", workers=2)
    assert isinstance(local_cluster, DaskTaskRunner)
    assert local_cluster.cluster_kwargs["n_workers"] == 2
    assert local_cluster.cluster_kwargs["threads_per_worker"] == 1
    assert local_cluster.cluster_kwargs["processes"] is True
    remote = build_task_runner("local", dask_address="tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    with pytest.raises(ValueError, match="unknown runner"):
        build_task_runner("spark")


def _write_raw(raw):
    raw.mkdir()
    for part in range(2):
        with (raw / f"feed-{part}.jsonl").open("w") as fh:
            for i, text in enumerate(ARTICLES):
                rec = {
                    "id": f"f{part}-{i}",
                    "title": f"Report {part}-{i}",
                    # different text per file (articles are keyed by content hash)
                    "text": f"{text} (Report {part}-{i}.)",
                    "published": f"2024-03-{i + 1:02d}T08:00:00Z",
                }
                fh.write(json.dumps(rec) + "\n")


def _tables(out):
    def read(name):
        df = pd.read_parquet(out / name).drop(columns="run_id")
        key = "figure_id" if name == "figures" else f"{name[:-1]}_id"
        return df.sort_values(key).reset_index(drop=True)

    return {name: read(name) for name in ("articles", "figures", "incidents")}


@pytest.mark.slow
def test_flow_on_dask_cluster_equals_default_runner(tmp_path):
    distributed = pytest.importorskip("distributed")
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import pipeline

    raw = tmp_path / "raw"
    _write_raw(raw)
    # (120 s for the server to start, as in the other flow tests: a busy machine starts slowly)
    with (
        prefect_test_harness(server_startup_timeout=120),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        pipeline(raw_dir=raw, out_dir=tmp_path / "local", report_dir=tmp_path / "rl", batch_size=10)
        on_dask = pipeline.with_options(
            task_runner=build_task_runner(dask_address=cluster.scheduler_address)
        )
        on_dask(
            raw_dir=raw,
            out_dir=tmp_path / "dask",
            report_dir=tmp_path / "rd",
            batch_size=10,
            runner="dask",
        )
        # the tasks really ran on the cluster's workers (which worker got what is Dask's choice)
        with distributed.Client(cluster) as client:
            ran = client.run(lambda dask_worker: dask_worker.state.executed_count)
        assert len(ran) == 2 and sum(ran.values()) > 0

    local, dask = _tables(tmp_path / "local"), _tables(tmp_path / "dask")
    assert len(local["articles"]) == 2 * len(ARTICLES)
    assert len(local["figures"]) > 0
    for name in local:
        pd.testing.assert_frame_equal(local[name], dask[name])
    quarantine = {
        side: pd.read_parquet(tmp_path / side / "quarantine").drop(columns="run_id")
        for side in ("local", "dask")
    }
    pd.testing.assert_frame_equal(quarantine["local"], quarantine["dask"])
    assert quarantine["dask"]["reason"].tolist() == ["implausible_count"] * 2
