"""What Prefect prints on the console during `casualties run`.

A failed task or flow makes Prefect's engine log the exception with its traceback (tens of
lines, repeated per retry and again for the flow) before the command prints its own one-line
error. Without `--debug` those reports stay out of the console; they still reach the Prefect
API (the UI shows them). Progress lines are unchanged.
"""

from __future__ import annotations

import logging

from prefect.logging.handlers import PrefectConsoleHandler


class _NoFailureReports(logging.Filter):
    """Drops the engine's exception reports: records that carry a traceback, and the
    'Finished in state Failed' lines that repeat them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.exc_text:
            return False
        message = record.getMessage()
        return not (record.levelno >= logging.ERROR and "Finished in state Failed" in message)


def quiet_tracebacks(debug: bool) -> None:
    """Without `debug`, keep the engine's exception reports off the console handlers."""
    if debug:
        return
    for logger in (logging.getLogger(), *_prefect_loggers()):
        for handler in logger.handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.addFilter(_NoFailureReports())


def _prefect_loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [
        logger
        for name, logger in list(manager.loggerDict.items())
        if isinstance(logger, logging.Logger) and name.split(".")[0] == "prefect"
    ]
