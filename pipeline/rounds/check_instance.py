"""Check a real instance end to end without landing anything: reachable, alive, bearer, one
client's answer classified. What an operator runs before turning the schedule on."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.normalize.outcomes import AUTH_ERROR, SNAPSHOT_OUTCOMES, classify
from pipeline.rounds.source import open_source
from pipeline.settings import ConfigurationError, Settings


@dataclass(frozen=True)
class InstanceCheck:
    """One line per step, and whether the instance is ready to be polled."""

    steps: list[tuple[str, bool, str]]

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.steps)


def check_instance(settings: Settings, *, client_number: int | None = None) -> InstanceCheck:
    """Open the source (clients file, alive_check), then ask one client once; land nothing.

    Raises:
        ConfigurationError: the clients file or the URL is unusable (one line, exit 2).
    """
    steps: list[tuple[str, bool, str]] = []
    with open_source(settings) as source:
        where = settings.display_url
        steps.append(("reachable", True, f"alive_check answered at {where}"))
        steps.append(("clients file", True, f"{len(source.credentials)} clients"))
        chosen = next(
            (c for c in source.credentials if client_number in (None, c.client_number)), None
        )
        if chosen is None:
            raise ConfigurationError(f"client {client_number} is not in the clients file")
        exchanges = source.client.fetch_with_retries(chosen)
    final = classify(exchanges[-1])
    bearer_ok = final.outcome != AUTH_ERROR or final.response_code == 6
    mode = "a bearer token" if settings.access_token else "no bearer token (unsecured API mode)"
    steps.append(("bearer", bearer_ok, mode if bearer_ok else final.error or "rejected"))
    answered = final.outcome in SNAPSHOT_OUTCOMES
    detail = f"client {chosen.client_number}: {final.outcome}" + (
        f" ({final.error})" if final.error else ""
    )
    steps.append(("balance answer", answered, f"{detail} after {len(exchanges)} attempt(s)"))
    return InstanceCheck(steps)
