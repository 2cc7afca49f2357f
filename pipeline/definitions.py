"""The code location `dg dev` and `dg check defs` load: whatever `pipeline/defs/` defines.

`defs_module = "pipeline.defs"` in pyproject.toml is honoured: an asset that `dg scaffold`
writes into `pipeline/defs/` appears beside the poll graph of `pipeline/defs/definitions.py`.
"""

from pathlib import Path

import dagster as dg
from dagster.components import load_from_defs_folder


@dg.definitions
def defs() -> dg.Definitions:
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
