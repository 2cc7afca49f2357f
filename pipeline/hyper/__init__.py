"""HTTP client for a Hyper instance: sessions, timeouts, timing; no storage, no polars."""

from pipeline.hyper.client import BALANCE_PATH, HyperClient
from pipeline.hyper.credentials import Credential, load_credentials
from pipeline.hyper.models import Exchange

__all__ = ["BALANCE_PATH", "Credential", "Exchange", "HyperClient", "load_credentials"]
