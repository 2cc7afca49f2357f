"""What one HTTP attempt against the API produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt: the answer as received, or the reason there was none.

    `body` is the response exactly as received: UTF-8 text, or base64 of the bytes when they
    were not valid UTF-8 (`body_encoding`). It never contains the request, which holds the
    client's password.
    """

    client_number: int
    attempt: int
    requested_at: datetime
    observed_at: datetime
    duration_ms: float
    http_status: int | None
    body: str | None
    network_error: str | None = None
    body_size: int | None = None
    body_truncated: bool = False
    body_encoding: str = "utf-8"
    decode_error: str | None = None
    # Seconds the server asked us to wait (`Retry-After`), when it said so.
    retry_after: float | None = None

    @classmethod
    def without_answer(
        cls,
        client_number: int,
        attempt: int,
        reason: str,
        *,
        requested_at: datetime | None = None,
        duration_ms: float = 0.0,
    ) -> Exchange:
        """An attempt that got no HTTP answer (network failure, or a client-side surprise)."""
        now = datetime.now(UTC)
        return cls(
            client_number=client_number,
            attempt=attempt,
            requested_at=requested_at or now,
            observed_at=now,
            duration_ms=duration_ms,
            http_status=None,
            body=None,
            network_error=reason,
        )
