"""A `requests`-based client for `Get_Client_Balance_json`."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import requests

from pipeline.hyper.auth import (
    REFRESH_PATH,
    TokenManager,
    TokenPair,
    TokenRefreshError,
    parse_refresh_answer,
)
from pipeline.hyper.credentials import Credential
from pipeline.hyper.models import Exchange
from pipeline.hyper.ratelimit import RequestPacer
from pipeline.hyper.retry import RetryPolicy, parse_retry_after, run_with_retries

BALANCE_PATH = "Get_Client_Balance_json"
ALIVE_PATH = "alive_check"
# The simulator answers "as of" this instant when the header is present; a real instance
# ignores unknown headers, and the client only sends it when asked to (backfills).
AS_OF_HEADER = "X-Simulator-As-Of"
# Bodies larger than this are cut before they reach storage; the original size is recorded.
MAX_BODY_BYTES = 10 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 10.0


class HyperClient:
    """One keep-alive session against one Hyper instance.

    Thread-safe for concurrent `fetch_balance` calls (requests' connection pool is), which is
    how the poller uses it. The bearer tokens (`auth`), the request pacer (`pacer`, shared by
    all threads) and the retry policy belong to the client, so every worker obeys the same
    budget and sees the same refreshed token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 30.0,
        pool_size: int = 8,
        user_agent: str = "hyper-balance-history",
        auth: TokenManager | None = None,
        pacer: RequestPacer | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.auth = auth or TokenManager()
        self.auth.bind(self._refresh_tokens)
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = user_agent

    def __repr__(self) -> str:
        return f"HyperClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HyperClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_reachable(self) -> bool:
        """True when `alive_check` gets any HTTP answer (it bypasses the security layers)."""
        try:
            self._session.get(
                f"{self.base_url}/{ALIVE_PATH}",
                timeout=(CONNECT_TIMEOUT_SECONDS, min(self.timeout_seconds, 10.0)),
            ).close()
        except requests.RequestException:
            return False
        return True

    def fetch_with_retries(
        self, credential: Credential, *, as_of: datetime | None = None
    ) -> list[Exchange]:
        """Every attempt for one client until a final answer (see `pipeline.hyper.retry`).

        Never raises: an unexpected exception inside an attempt becomes a network-error
        exchange, and the attempts before it are kept.
        """
        generations: dict[int, int] = {}

        def attempt(number: int) -> Exchange:
            generations[number] = self.auth.current()[1]
            try:
                return self.fetch_balance(credential, as_of=as_of, attempt=number)
            except Exception as exc:  # never let one client's surprise stop the round
                return Exchange.without_answer(
                    credential.client_number,
                    number,
                    f"unexpected client failure ({type(exc).__name__})",
                )

        def on_unauthorized(exchange: Exchange) -> bool:
            return self.auth.refresh(generations[exchange.attempt])

        return run_with_retries(attempt, self.retry, on_unauthorized=on_unauthorized)

    def _refresh_tokens(self, refresh_token: str) -> TokenPair:
        """POST `RefreshToken` with the refresh token as bearer (counts against the budget)."""
        if self.pacer is not None:
            self.pacer.acquire()
        try:
            with self._session.post(
                f"{self.base_url}/{REFRESH_PATH}",
                headers={"Authorization": f"Bearer {refresh_token}", "Accept": "application/json"},
                timeout=(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds),
            ) as response:
                return parse_refresh_answer(response.status_code, response.content)
        except requests.RequestException as exc:
            raise TokenRefreshError(describe_network_error(exc)) from None

    def fetch_balance(
        self, credential: Credential, *, as_of: datetime | None = None, attempt: int = 1
    ) -> Exchange:
        """POST one balance request and return what came back, never raising for HTTP trouble.

        Waits for the shared pacer first, and sends the current bearer token when there is one.

        Args:
            credential: the client number and API password (sent in the JSON body only).
            as_of: ask the simulator for its answer at this instant (backfills); None = now.
            attempt: the attempt number recorded with the exchange.
        """
        headers = {"Accept": "application/json"}
        if as_of is not None:
            headers[AS_OF_HEADER] = as_of.astimezone(UTC).isoformat()
        token, _ = self.auth.current()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.pacer is not None:
            self.pacer.acquire()
        payload: dict[str, str | int] = {
            "ClientNumber": credential.client_number,
            "API_Password": credential.api_password,
        }
        requested_at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            with self._session.post(
                f"{self.base_url}/{BALANCE_PATH}",
                json=payload,
                headers=headers,
                timeout=(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds),
                stream=True,
            ) as response:
                raw, size = _read_capped(response)
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except (requests.RequestException, OSError) as exc:
            # The exception text names the URL and the failure, never the request body.
            return Exchange.without_answer(
                credential.client_number,
                attempt,
                describe_network_error(exc),
                requested_at=requested_at,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        body, encoding, decode_error = decode_body(raw)
        return Exchange(
            client_number=credential.client_number,
            attempt=attempt,
            requested_at=requested_at,
            observed_at=datetime.now(UTC),
            duration_ms=(time.perf_counter() - started) * 1000,
            http_status=status,
            body=body,
            body_size=size,
            body_truncated=size > len(raw),
            body_encoding=encoding,
            decode_error=decode_error,
            retry_after=retry_after,
        )


def _read_capped(response: requests.Response) -> tuple[bytes, int]:
    """Read at most MAX_BODY_BYTES, but count the whole body so the true size is recorded."""
    chunks: list[bytes] = []
    kept = 0
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if kept < MAX_BODY_BYTES:
            piece = chunk[: MAX_BODY_BYTES - kept]
            chunks.append(piece)
            kept += len(piece)
    return b"".join(chunks), size


def decode_body(raw: bytes) -> tuple[str, str, str | None]:
    """Return (text, encoding, error): UTF-8 text, or base64 of bytes that are not UTF-8.

    Base64 keeps an undecodable body byte-exact for audit while still fitting a VARCHAR.
    """
    try:
        return raw.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as exc:
        error = f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        return base64.b64encode(raw).decode("ascii"), "base64", error


def describe_network_error(exc: Exception) -> str:
    """A one-line description: the kind of failure, without the request that caused it."""
    kinds = (
        (requests.ConnectTimeout, "connect timeout"),
        (requests.ReadTimeout, "read timeout"),
        (requests.ConnectionError, "connection error"),
    )
    kind = next((label for cls, label in kinds if isinstance(exc, cls)), type(exc).__name__)
    reason = str(exc).splitlines()[0] if str(exc) else ""
    return f"{kind}: {reason}"[:300]
