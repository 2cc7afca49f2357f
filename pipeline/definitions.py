"""The code location `dg dev` and `dg check defs` load (configured from the environment)."""

from pipeline.defs.definitions import build_definitions
from pipeline.settings import Settings

defs = build_definitions(Settings.from_env())
