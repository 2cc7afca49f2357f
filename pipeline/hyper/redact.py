"""Secret redaction for logs: every registered password or token is masked in every record.

Secrets are registered when they are loaded (clients file, bearer tokens). The filter works at
record creation (a log record factory), so it covers every logger and every handler, including
ones added later (Dagster's, pytest's caplog), not only those present at install time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "***"
# Shorter strings would mask ordinary words and numbers; real passwords and tokens are longer.
MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_installed = False


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secrets to mask from now on (idempotent; short or empty values are ignored)."""
    global _secrets
    fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
    if fresh - _secrets:
        with _lock:
            _secrets = _secrets | fresh


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `***` (longest first)."""
    secrets = _secrets
    if not secrets or not text:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def install_log_redaction() -> None:
    """Wrap the logging record factory once per process so every record is redacted."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                try:
                    message = record.getMessage()
                except Exception:  # a broken format string: leave it to the handler
                    return record
                clean = redact(message)
                if clean != message or record.args:
                    record.msg, record.args = clean, ()
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
