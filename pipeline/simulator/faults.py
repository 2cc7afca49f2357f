"""Faults on demand: what a hostile Hyper instance (or the network before it) can answer.

A `FaultPlan` picks a fault kind per client, either explicitly (`clients={500601: "nan_token"}`)
or for a share of clients (`rate=0.2`, drawn per client and hour from `seed`), so a run is
reproducible. Transient kinds fail the first attempt and then clear on each later attempt with
`clear_probability` (seeded per client, hour and attempt number), so retries recover some
clients and not others, deterministically.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.simulator.jsontext import Number, dumps
from pipeline.simulator.responses import JSON_CONTENT_TYPE, Reply, error_reply
from pipeline.simulator.rng import draw

# Retried by the client, and may clear on a later attempt.
TRANSIENT_FAULTS = (
    "timeout",  # the answer comes later than the client's read timeout
    "html_502",
    "html_503",
    "reset",  # the connection is dropped (TCP RST) without an answer
    "busy_423",  # ResponseCode 10, with Retry-After
    "error_500",  # ResponseCode 4 or 5
    "rate_429",  # with Retry-After
)
# Final: the same answer on every attempt; the client must record it and move on.
FINAL_FAULTS = (
    "forbidden_403",  # IP not whitelisted (ResponseCode 8)
    "truncated_json",
    "duplicate_currency",
    "mixed_bases",  # two different Value_ suffixes in one body
    "nan_token",  # NaN / Infinity where money should be
    "invalid_utf8",
    "oversize",  # a body over the client's 10 MiB cap
    "overflow",  # every number in range, but Balance - Cash does not fit DECIMAL(38,8)
)
# A valid answer in an unusual form: it must still become a snapshot.
BENIGN_FAULTS = (
    "latency",
    "legacy_typing",  # "ResponseCode": "000", numbers as strings
    "extra_fields",  # unknown fields: schema drift, not an error
)
ALL_FAULTS = TRANSIENT_FAULTS + FINAL_FAULTS + BENIGN_FAULTS
MAX_CLIENT_BODY = 10 * 1024 * 1024

_HTML = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}"
    "</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True)
class FaultPlan:
    """Which clients misbehave, how, and how often transient faults clear."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ALL_FAULTS
    clients: Mapping[int, str] = field(default_factory=dict, hash=False)
    seed: int = 0
    clear_probability: float = 0.5
    latency_seconds: float = 0.2  # the "latency" fault
    base_latency_seconds: float = 0.0  # added to every balance answer (slow rounds)
    timeout_seconds: float = 2.0  # how long the "timeout" fault stalls
    retry_after_seconds: int | None = 1  # sent with 429 and 423; None = no header

    def __post_init__(self) -> None:
        unknown = {*self.kinds, *self.clients.values()} - set(ALL_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {', '.join(ALL_FAULTS)}")
        if not 0.0 <= self.rate <= 1.0 or not 0.0 <= self.clear_probability <= 1.0:
            raise ValueError("rate and clear_probability must be within [0, 1]")

    def kind_for(self, client_number: int, hour: int) -> str | None:
        if client_number in self.clients:
            return self.clients[client_number]
        if self.rate <= 0 or not self.kinds:
            return None
        if draw(self.seed, "fault", client_number, hour, n=1_000_000) >= self.rate * 1_000_000:
            return None
        return self.kinds[draw(self.seed, "kind", client_number, hour, n=len(self.kinds))]

    def clears(self, client_number: int, hour: int, attempt: int) -> bool:
        """Whether a transient fault is gone on this attempt (never on the first)."""
        if attempt <= 1:
            return False
        roll = draw(self.seed, "clear", client_number, hour, attempt, n=1_000_000)
        return roll < self.clear_probability * 1_000_000


class FaultState:
    """Per-instance memory: attempts per (client, hour), for transient faults and assertions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.attempts: Counter[tuple[int, int]] = Counter()

    def next_attempt(self, client_number: int, hour: int) -> int:
        with self._lock:
            self.attempts[(client_number, hour)] += 1
            return self.attempts[(client_number, hour)]

    def requests_for(self, client_number: int) -> int:
        with self._lock:
            return sum(n for (c, _), n in self.attempts.items() if c == client_number)


def apply_fault(
    plan: FaultPlan,
    state: FaultState,
    client_number: int,
    hour: int,
    answer: Callable[[], Reply],
) -> Reply:
    """The reply for one balance request of `client_number`, with its planned fault applied."""
    attempt = state.next_attempt(client_number, hour)
    kind = plan.kind_for(client_number, hour)
    delay = plan.base_latency_seconds
    if kind in TRANSIENT_FAULTS and plan.clears(client_number, hour, attempt):
        kind = None
    if kind is None:
        return _delayed(answer(), delay)
    if kind in TRANSIENT_FAULTS:
        return _delayed(_transient(plan, kind, client_number, hour, answer), delay)
    if kind == "forbidden_403":
        return _delayed(error_reply(403, 8, "IP address is not whitelisted"), delay)
    if kind == "latency":
        return _delayed(answer(), delay + plan.latency_seconds)
    reply = answer()
    if reply.status != 200:
        return _delayed(reply, delay)
    return _delayed(_mutated(plan, kind, client_number, hour, reply), delay)


def _delayed(reply: Reply, seconds: float) -> Reply:
    if seconds <= 0:
        return reply
    return replace(reply, delay_seconds=reply.delay_seconds + seconds)


def _retry_after(plan: FaultPlan) -> dict[str, str]:
    if plan.retry_after_seconds is None:
        return {}
    return {"Retry-After": str(plan.retry_after_seconds)}


def _transient(
    plan: FaultPlan, kind: str, client_number: int, hour: int, answer: Callable[[], Reply]
) -> Reply:
    if kind == "timeout":
        reply = answer()
        return Reply(reply.status, reply.body, reply.headers, plan.timeout_seconds)
    if kind in ("html_502", "html_503"):
        status, reason = (502, "Bad Gateway") if kind == "html_502" else (503, "Unavailable")
        page = _HTML.format(status=status, reason=reason).encode()
        return Reply(status, page, {"Content-Type": "text/html"})
    if kind == "reset":
        return Reply(0, b"", {}, reset=True)
    if kind == "busy_423":
        reply = error_reply(423, 10, "Resource busy, try again later")
        return Reply(423, reply.body, {**reply.headers, **_retry_after(plan)})
    if kind == "error_500":
        code = 4 if draw(plan.seed, "code", client_number, hour, n=2) == 0 else 5
        message = "Database error" if code == 4 else "Technical error"
        return error_reply(500, code, message)
    assert kind == "rate_429"
    return Reply(429, b"Too Many Requests", {"Content-Type": "text/plain", **_retry_after(plan)})


def _doc(body: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(body.decode("utf-8"), parse_float=Number, parse_int=Number)
    return doc


def _base_of(doc: dict[str, Any]) -> str:
    total = next((k for k in doc if k.startswith("Total_Floating_Balance_")), None)
    return total.rsplit("_", 1)[1] if total else "ILS"


def _lines(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The Data lines; a restricted answer without Data gets one, so the fault has a target."""
    base = _base_of(doc)
    if not doc.get("Data"):
        doc["Data"] = [
            {
                "Currency": "USD",
                "Balance": Number("10.00"),
                f"Value_{base}": Number("36.5"),
                "Cash": Number("10.00"),
            }
        ]
        doc.setdefault(f"Total_Floating_Balance_{base}", Number("36.50"))
    lines: list[dict[str, Any]] = doc["Data"]
    return lines


def _mutated(plan: FaultPlan, kind: str, client_number: int, hour: int, reply: Reply) -> Reply:
    body = reply.body
    if kind == "truncated_json":
        return Reply(200, body[: max(1, len(body) // 2)], reply.headers)
    if kind == "invalid_utf8":
        marker = b'"ResponseMsgEng": "'
        return Reply(200, body.replace(marker, marker + b"\xc3\x28\xff", 1), reply.headers)
    if kind == "oversize":
        padding = b' "Padding": "' + b"x" * (MAX_CLIENT_BODY + 1024) + b'",'
        return Reply(200, b"{" + padding + body[1:], reply.headers)
    if kind == "legacy_typing":
        doc = json.loads(body.decode("utf-8"), parse_float=str, parse_int=str)
        doc["ResponseCode"] = f"{int(doc['ResponseCode']):03d}"
        text = json.dumps(doc, ensure_ascii=False).encode()
        return Reply(200, text, {"Content-Type": JSON_CONTENT_TYPE})
    doc = _doc(body)
    if kind == "extra_fields":
        doc["Server_Build"] = "7.3.1-sim"
        for line in doc.get("Data") or []:
            line["Extra_Note"] = ""
    elif kind == "duplicate_currency":
        lines = _lines(doc)
        lines.append(dict(lines[0]))
    elif kind == "overflow":
        line = _lines(doc)[0]
        line["Balance"] = Number("999999999999999999999999999999.99999999")
        line["Cash"] = Number("-999999999999999999999999999999.99999999")
    elif kind == "mixed_bases":
        lines = _lines(doc)
        base = _base_of(doc)
        other = "USD" if base != "USD" else "EUR"
        last = lines[-1]
        last[f"Value_{other}"] = last.pop(f"Value_{base}")
    else:
        assert kind == "nan_token"
        token = ("NaN", "Infinity", "-Infinity")[draw(plan.seed, "nan", client_number, n=3)]
        _lines(doc)[0]["Balance"] = Number(token)
    return Reply(200, dumps(doc).encode(), reply.headers)
