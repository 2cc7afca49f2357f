"""`pipeline check-instance`: verify a real instance end to end, landing nothing."""

from __future__ import annotations

import argparse

from pipeline.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check-instance",
        aliases=["connect"],
        help="check HYPER_BASE_URL end to end (alive_check, bearer, one client) without landing",
        description=(
            "Reach the instance, run alive_check, and ask one client of the clients file for its "
            "balance once; print one line per step. Nothing is written. Exit 0 when every step "
            "passed, 1 when one failed, 2 on a configuration error."
        ),
    )
    check.add_argument("--client", type=int, metavar="N", help="the client to ask (default: first)")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.rounds.check_instance import check_instance

    result = check_instance(settings, client_number=args.client)
    for name, passed, detail in result.steps:
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")
    return 0 if result.ok else 1
