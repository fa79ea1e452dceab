"""Command line: ``python -m companion doctor``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("doctor", help="report versions, threads, accelerators and offline data sources")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from companion.doctor import main as doctor_main

        return doctor_main()
    parser.error(f"unknown command {args.command!r}")  # unreachable: argparse validates choices
    return 2


if __name__ == "__main__":
    sys.exit(main())
