"""`pipeline check-instance` (alias `connect`): check a real instance end to end, store nothing."""

from __future__ import annotations

import argparse

from pipeline.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check-instance",
        aliases=["connect"],
        help="check HYPER_BASE_URL end to end (reachable, bearer, one client) without storing",
        description=(
            "Check the instance a run would poll (HYPER_BASE_URL, or the embedded simulator): "
            "alive_check answers, the bearer token is accepted, and one client's balance answer "
            "classifies as ok or restricted. Nothing is written to the database. Exit status 0 "
            "when every check passes, 1 when one fails, 2 on a configuration error."
        ),
    )
    check.add_argument(
        "--client",
        type=int,
        metavar="N",
        help="the client to ask (default: the first in HYPER_CLIENTS_FILE)",
    )
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.rounds.check_instance import check_instance

    result = check_instance(settings, client_number=args.client)
    print(f"{'instance':<10} {result.instance}")
    for step in result.steps:
        print(f"{step.name:<10} {step.verdict:<8} {step.detail}")
    return 0 if result.ok else 1
