"""Command line: ``python -m companion doctor``, ``python -m companion data fetch``,
``python -m companion bench [--quick] [--out DIR]``, ``python -m companion serve [--port N]`` and
``python -m companion exercises [--out DIR]`` (the student notebooks) and
``python -m companion experiments run NAME`` (the full-scale runs of chapter 17)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # The benchmark suite parses its own options (python -m companion bench --help).
        from companion.bench.cli import main as bench_main

        return bench_main(argv[1:])
    if argv[:1] == ["serve"]:
        # The server parses its own options (python -m companion serve --help).
        from companion.serving.cli import main as serve_main

        return serve_main(argv[1:])
    if argv[:1] == ["exercises"]:
        # The student notebooks of `make exercises` (python -m companion exercises --help).
        from companion.exercises.student import main as exercises_main

        return exercises_main(argv[1:])
    if argv[:1] == ["experiments"]:
        # The full-scale runs parse their own options (python -m companion experiments --help).
        from companion.experiments.cli import main as experiments_main

        return experiments_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m companion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("doctor", help="report versions, threads, accelerators and offline data sources")
    data = commands.add_parser("data", help="set-up steps for the offline data sources")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    data_commands.add_parser("fetch", help="download the English sentiment archive once into the cache directory")
    commands.add_parser("bench", help="run the benchmark suite and save its results (see bench --help)")
    commands.add_parser("serve", help="serve the sentiment model over HTTP on 127.0.0.1 (see serve --help)")
    commands.add_parser("exercises", help="write the student notebooks, solutions removed (see exercises --help)")
    commands.add_parser("experiments", help="full-scale runs with provenance (see experiments --help)")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from companion.doctor import main as doctor_main

        return doctor_main()
    if args.command == "data" and args.data_command == "fetch":
        from companion.data.fetch import main as fetch_main

        return fetch_main()
    parser.error(f"unknown command {args.command!r}")  # exits with status 2


if __name__ == "__main__":
    sys.exit(main())
