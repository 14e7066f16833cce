"""Databases for tests, on SQLite and on PostgreSQL.

The backend is a test parameter (``backend`` in ``tests/conftest.py``): every test that asks for
a database runs once per backend. SQLite databases are files in the test's temporary directory.
PostgreSQL tests use one database per run, given by ``BASTION_TEST_POSTGRES_URL`` (``.ci/run``
creates a fresh one and drops it afterwards); inside it, each database a test asks for is a
schema (``bastion_t0``, ``bastion_t1``, …) created and migrated once per run and emptied before
each use with one ``DELETE`` per table (3 ms; ``TRUNCATE`` of the same tables takes ~50 ms).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from bastion.storage.sql import Kind

__all__ = [
    "POSTGRES_SKIP_REASON",
    "POSTGRES_URL_VARIABLE",
    "DatabaseHost",
    "Databases",
    "PostgresSchemas",
    "dump",
    "fill_sessions",
    "postgres_url",
    "rows",
    "table_names",
]

POSTGRES_URL_VARIABLE = "BASTION_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = (
    f"PostgreSQL half skipped: set {POSTGRES_URL_VARIABLE}=postgresql://postgres@127.0.0.1:5432/"
    "<an empty database> to run it (.ci/run creates one per run)"
)
# Small pools: the test server is shared, and a test holds only a few stores at a time.
TEST_POOL = "pool_min=1&pool_max=4&pool_timeout=10"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


def schema_url(base: str, schema: str, extra: str = TEST_POOL) -> str:
    """``base`` with ``search_path`` set to ``schema`` (and ``extra`` URL parameters)."""
    options = quote(f"-csearch_path={schema}", safe="")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={options}" + (f"&{extra}" if extra else "")


def rows(store: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run a query on the store's own database (either backend)."""
    result: list[tuple[Any, ...]] = store.database.run(Kind.READ, lambda tx: tx.all(sql, params))
    return result


def table_names(store: Any) -> list[str]:
    """bastion's tables, sorted."""
    if store.database.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name <> 'bastion_migrations'"
        )
    return sorted(r[0] for r in rows(store, sql))


def fill_sessions(
    store: Any, count: int, *, expired_every: int = 0, prefix: str = "s", live_until_ms: int
) -> None:
    """``count`` sessions in one statement (``{prefix}1`` …); every ``expired_every``-th one
    expired long ago (all of them with 1), the others live until ``live_until_ms``."""
    columns = (
        "handle, user_id, recipe_user_id, tenant_id, access_payload, session_data, "
        "current_hash2, prev_hash2, rotated_at_ms, created_at_ms, expires_at_ms"
    )
    expires = f"CASE WHEN i % {expired_every} = 0 THEN 2 ELSE {int(live_until_ms)} END"
    values = (
        f"'{prefix}' || i, 'u' || (i % 5000), 'u', 'public', '{{}}', '{{}}', 'h' || i, "
        f"NULL, NULL, 1, {expires if expired_every else int(live_until_ms)}"
    )
    if store.database.dialect.name == "sqlite":
        sql = (
            f"INSERT INTO sessions ({columns}) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
            f"SELECT i + 1 FROM n WHERE i < ?) SELECT {values} FROM n"
        )
    else:
        sql = f"INSERT INTO sessions ({columns}) SELECT {values} FROM generate_series(1, ?) i"
    store.database.run(Kind.WRITE, lambda tx: tx.execute(sql, (count,)))
    if store.database.dialect.name != "sqlite":
        store.database.run(Kind.READ, lambda tx: tx.execute("ANALYZE sessions"))


def dump(store: Any) -> str:
    """Every row of every table as text (to search for secrets that must not be stored)."""
    lines = []
    for table in table_names(store):
        for row in rows(store, f"SELECT * FROM {table}"):
            lines.append(f"{table}: {row!r}")
    return "\n".join(lines)


class PostgresSchemas:
    """The run's PostgreSQL database, cut into schemas that tests borrow one after another."""

    def __init__(self, base_url: str) -> None:
        import psycopg

        self.base_url = base_url
        self._admin = psycopg.connect(base_url, autocommit=True)
        self._ready: set[str] = set()
        self._tables: dict[str, list[str]] = {}

    def fresh(self, schema: str, *, copy_keys_from: str | None = None) -> str:
        """An emptied, migrated schema's URL; with ``copy_keys_from`` (another schema) its
        signing keys and secrets are copied in."""
        if schema not in self._ready:
            self._create(schema)
        tables = self._tables[schema]
        with self._admin.transaction():
            for table in tables:
                self._admin.execute(f'DELETE FROM "{schema}".{table}')
            if copy_keys_from is not None:
                for table in ("signing_keys", "secrets"):
                    self._admin.execute(
                        f'INSERT INTO "{schema}".{table} SELECT * FROM "{copy_keys_from}".{table}'
                    )
        return schema_url(self.base_url, schema)

    def _create(self, schema: str) -> None:
        from bastion.storage.postgres import PostgresStore

        self._admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        PostgresStore(schema_url(self.base_url, schema)).close()  # applies the migrations
        found = self._admin.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name <> 'bastion_migrations'",
            (schema,),
        ).fetchall()
        self._tables[schema] = [r[0] for r in found]
        self._ready.add(schema)

    def close(self) -> None:
        self._admin.close()


class DatabaseHost:
    """What outlives one test: the run's PostgreSQL schemas and the template databases."""

    def __init__(self, tmp_dir: Path, base_url: str | None) -> None:
        self.tmp_dir = tmp_dir
        self.base_url = base_url
        self._postgres: PostgresSchemas | None = None
        self.templates: dict[tuple[str, str], str] = {}

    @property
    def postgres(self) -> PostgresSchemas:
        if self.base_url is None:
            raise RuntimeError(POSTGRES_SKIP_REASON)
        if self._postgres is None:
            self._postgres = PostgresSchemas(self.base_url)
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()


class Databases:
    """The databases of one test: ``fresh()`` gives a new empty one each call."""

    def __init__(self, backend: str, tmp_path: Path, host: DatabaseHost) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._host = host
        self._counter = itertools.count()

    def fresh(self, name: str = "bastion", *, template: str | None = None) -> str:
        """A URL of an empty database; ``template`` (a URL from :meth:`make_template`) seeds
        it with that database's signing keys and secrets."""
        n = next(self._counter)
        if self.backend == "sqlite":
            path = self._tmp_path / f"{name}-{n}.db"
            if template is not None:
                shutil.copyfile(template.removeprefix("sqlite:///"), path)
            return f"sqlite:///{path}"
        source = None if template is None else _schema_of(template)
        return self._host.postgres.fresh(f"bastion_t{n}", copy_keys_from=source)

    def make_template(self, name: str, build: Callable[[str], None]) -> str:
        """A database that ``build(url)`` fills once per backend and run, to seed others."""
        key = (self.backend, name)
        if key not in self._host.templates:
            if self.backend == "sqlite":
                url = f"sqlite:///{self._host.tmp_dir / f'{name}.db'}"
            else:
                url = self._host.postgres.fresh(f"bastion_tpl_{name}")
            build(url)
            self._host.templates[key] = url
        return self._host.templates[key]


def _schema_of(url: str) -> str:
    options = parse_qs(urlsplit(url).query)["options"][0]
    return options.split("search_path=", 1)[1]
