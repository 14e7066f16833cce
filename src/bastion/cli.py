"""``bastion``: the command line for operators.

::

    bastion generate-key                       # a new key for bastion.init(encryption_keys=[...])
    bastion migrate --database-url URL         # create or upgrade the schema, print its version
    bastion cleanup --database-url URL         # delete expired sessions, tokens and login codes

``--database-url`` defaults to ``$BASTION_DATABASE_URL``, then to ``sqlite:///bastion.db``; a
``postgresql://`` URL works the same. Only ``migrate`` creates a database; ``cleanup`` refuses one
that does not exist yet.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bastion.app import resolve_database_url
from bastion.bridge import run_sync
from bastion.clock import SystemClock
from bastion.core.crypto import generate_key
from bastion.errors import ConfigError, StorageError
from bastion.storage import open_store

__all__ = ["main"]


def _database_url(args: argparse.Namespace) -> str:
    return resolve_database_url(args.database_url)


def _migrate(args: argparse.Namespace) -> int:
    store = open_store(_database_url(args))  # opening a store applies pending migrations
    try:
        version = store.schema_version()
    finally:
        store.close()
    print(f"schema version {version}")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    store = open_store(_database_url(args), create=False)
    try:
        deleted = run_sync(store.delete_expired(SystemClock().now_ms()))
    finally:
        store.close()
    for table, count in deleted.items():
        print(f"{table}: {count} expired rows deleted")
    return 0


def _generate_key(args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="bastion", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("migrate", _migrate, "create or upgrade the database schema"),
        ("cleanup", _cleanup, "delete expired sessions, one-time tokens and login codes"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--database-url", help="sqlite:///path.db or postgresql://... (see module docs)"
        )
        command.set_defaults(handler=handler)
    key = commands.add_parser("generate-key", help="print a new 256-bit encryption key")
    key.set_defaults(handler=_generate_key)
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except ConfigError as exc:
        print(f"bastion: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:  # the message masks any password
        print(f"bastion: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
