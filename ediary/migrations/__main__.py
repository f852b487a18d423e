"""`python -m ediary.migrations revision -m "message"`: what `make migration` runs.

Upgrading and downgrading a real database is `ediary db ...`; writing a migration is a developer's
task and lives here, next to the migrations.
"""

from __future__ import annotations

import argparse

from ediary.migrations import autogenerate, heads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ediary.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument(
        "--database-url",
        help="compare against this database instead of a throw-away SQLite one migrated to head",
    )
    commands.add_parser("heads", help="print the head revision(s)")
    args = parser.parse_args(argv)

    if args.command == "heads":
        print("\n".join(heads()))
        return 0
    for path in autogenerate(args.message, args.database_url):
        print(f"wrote {path}; read it before committing: autogenerate is a draft")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
