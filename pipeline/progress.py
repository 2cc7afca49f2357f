"""Progress of long rounds, reported through a logger so any front end can display it.

Library code logs `progress(...)`; the CLI attaches a handler that draws a bar. Nothing is
printed when no one listens.
"""

from __future__ import annotations

import logging

PROGRESS_LOGGER = "pipeline.progress"
_log = logging.getLogger(PROGRESS_LOGGER)


def progress(step: str, done: int, total: int, detail: str = "") -> None:
    _log.info(
        "%s %d/%d %s",
        step,
        done,
        total,
        detail,
        extra={"step": step, "done": done, "total": total, "detail": detail},
    )
