"""Progress bars on stderr for long commands, fed by explicit callbacks (no global logger)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(unit: str) -> Iterator[Callable[[int, int, str], None]]:
    """A callback `(done, total, detail)` that draws a bar while the block runs.

    The bar appears on the first call (so a run with nothing to do prints nothing) and only
    when stderr is a terminal; it is closed when the block ends, whatever happened.
    """
    bars: list[tqdm] = []

    def update(done: int, total: int, detail: str) -> None:
        if not bars:
            bars.append(
                tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, disable=None)
            )
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(detail, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
