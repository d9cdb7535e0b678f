"""Where the pipeline's tasks run: on this machine (threads + a process pool) or on Dask.

- `local` (default): Prefect's `ThreadPoolTaskRunner` runs tasks in threads of the flow process;
  CPU-heavy extraction is handed to a `casualties.runtime.pool.ExtractionPool` of worker processes
  (one per core), so both cores work while threads only wait.
- `dask`: `prefect_dask.DaskTaskRunner`. Without an address it starts a local cluster of worker
  processes (1 thread each, as the GIL makes threads useless for extraction); with
  `--dask-address tcp://host:port` it connects to an existing scheduler. Tasks run inside the Dask
  workers, which are separate processes already, so they extract in place.

The flow (`flows/pipeline.py`) opens the `ExtractionPool` itself when the runner is local.
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from casualties.runtime.pool import default_workers

RUNNERS = ("local", "dask")


def build_task_runner(
    runner: str = "local", dask_address: str | None = None, workers: int | None = None
) -> TaskRunner:
    """The Prefect task runner for `casualties run --runner ... [--dask-address ...]`.

    `workers` is the number of cores to use: extraction processes (local) or local Dask worker
    processes (dask without an address); default: one per core. An address implies `dask`.
    """
    workers = workers or default_workers()
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,  # no web server (and no bokeh dependency)
            },
        )
    if runner != "local":
        raise ValueError(f"unknown runner {runner!r}; choose one of {', '.join(RUNNERS)}")
    # Threads mostly wait (on the extraction pool, or on an upstream task's future), so allow
    # several per core: with one thread per core, a validate task waiting for its extract task
    # would hold a thread and leave a core idle.
    return ThreadPoolTaskRunner(max_workers=4 * workers)
