"""What only the PostgreSQL backend does: its URL, the pool, migrations from many processes at
once, and a database that goes away and comes back."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import bastion
from bastion.bridge import run_sync
from bastion.errors import ConfigError, StorageUnavailableError
from bastion.storage import open_store
from bastion.storage.migrations import migrations
from bastion.storage.postgres import PostgresSettings, mask_url
from bastion.storage.sql import Kind, Tx
from tests.conftest import app_info
from tests.databases import POSTGRES_SKIP_REASON, postgres_url, rows, schema_url
from tests.faults import TcpProxy, through
from tests.storage.contract.test_sessions import record

# -- the URL (no server needed) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://bob:s3cret@db:5432/app", "postgresql://bob:***@db:5432/app"),
        ("postgres://bob@db/app?sslmode=require", "postgres://bob@db/app?sslmode=require"),
        (
            "postgresql://db/app?password=s3cret&pool_max=3",
            "postgresql://db/app?password=***&pool_max=3",
        ),
        ("postgresql://b%40b:p%3Ass@db/app", "postgresql://b%40b:***@db/app"),
    ],
)
def test_passwords_are_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_pool_settings_come_out_of_the_url_and_the_rest_goes_to_libpq() -> None:
    settings = PostgresSettings.from_url(
        "postgresql://u:pw@h/db?pool_min=2&pool_max=7&pool_timeout=1.5&sslmode=disable"
    )
    assert (settings.pool_min, settings.pool_max, settings.pool_timeout_s) == (2, 7, 1.5)
    assert settings.conninfo == "postgresql://u:pw@h/db?sslmode=disable&connect_timeout=5"
    assert "pw" not in settings.display_url
    defaults = PostgresSettings.from_url("postgresql://h/db?connect_timeout=2")
    assert (defaults.pool_min, defaults.pool_max, defaults.pool_timeout_s) == (1, 10, 5.0)
    assert defaults.conninfo == "postgresql://h/db?connect_timeout=2"


@pytest.mark.parametrize(
    "query", ["pool_max=0", "pool_min=5&pool_max=2", "pool_timeout=0", "pool_max=many"]
)
def test_bad_pool_settings_are_config_errors(query: str) -> None:
    with pytest.raises(ConfigError):
        PostgresSettings.from_url(f"postgresql://h/db?{query}")


def test_an_unreachable_database_at_start_up_names_the_url_not_the_password() -> None:
    url = "postgresql://bob:s3cret@127.0.0.1:1/app?connect_timeout=2"
    with pytest.raises(StorageUnavailableError) as caught:
        bastion.init(app_info=app_info(), database_url=url)
    message = str(caught.value)
    assert "postgresql://bob:***@127.0.0.1:1/app" in message
    assert "s3cret" not in message
    assert "refused" in message.lower() or "connect" in message.lower()


# -- against the server -------------------------------------------------------------------------


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def backend() -> str:
    """This module's server tests run on PostgreSQL only."""
    if postgres_url() is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    return "postgres"


@pytest.fixture
def pg(databases: Any) -> str:
    """A fresh schema's URL."""
    return str(databases.fresh("pg"))


@pytest.fixture
def server_url() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    return url


def _open(url: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    store = open_store(url)
    results.put(store.schema_version())
    store.close()


def test_processes_starting_together_apply_each_migration_once(server_url: str) -> None:
    import psycopg

    schema = "bastion_race_migrations"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = schema_url(server_url, schema)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_open, args=(url, barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    versions = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    latest = len(migrations("postgres"))
    assert versions == [latest] * 4
    store = open_store(url)
    applied = rows(store, "SELECT version FROM bastion_migrations ORDER BY version")
    assert applied == [(n,) for n in range(1, latest + 1)]
    store.close()
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_the_command_line_refuses_a_database_without_bastions_tables(server_url: str) -> None:
    import psycopg

    schema = "bastion_empty"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with pytest.raises(ConfigError, match="bastion migrate"):
            open_store(schema_url(server_url, schema), create=False)
        with psycopg.connect(schema_url(server_url, schema, extra="")) as conn:
            assert conn.execute("SELECT to_regclass('bastion_migrations')").fetchone() == (None,)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _kill_own_connection_then(store: Any, calls: list[int]) -> Any:
    def work(tx: Tx) -> Any:
        calls.append(1)
        tx.execute("INSERT INTO secrets (name, value) VALUES ('half', ?)", (b"x",))
        if len(calls) == 1:  # the connection dies in the middle of the transaction
            tx.one("SELECT pg_terminate_backend(pg_backend_pid())")
        tx.execute("INSERT INTO secrets (name, value) VALUES ('whole', ?)", (b"y",))
        return "done"

    return store.database.run(Kind.WRITE, work)


def test_a_connection_lost_mid_transaction_leaves_nothing_and_is_retried(pg: str) -> None:
    store = open_store(pg)
    calls: list[int] = []
    assert _kill_own_connection_then(store, calls) == "done"
    assert len(calls) == 2  # once on the dead connection, once on a new one
    assert sorted(r[0] for r in rows(store, "SELECT name FROM secrets")) == ["half", "whole"]
    store.close()


def test_a_connection_lost_on_every_try_is_unavailable(pg: str) -> None:
    store = open_store(pg)

    def always_dies(tx: Tx) -> None:
        tx.execute("INSERT INTO secrets (name, value) VALUES ('never', ?)", (b"x",))
        tx.one("SELECT pg_terminate_backend(pg_backend_pid())")

    with pytest.raises(StorageUnavailableError) as caught:
        store.database.run(Kind.WRITE, always_dies)
    assert caught.value.retry_after_s == 5
    assert rows(store, "SELECT COUNT(*) FROM secrets") == [(0,)]  # the pool is fine again
    store.close()


def test_a_deadlock_is_retried_until_both_finish(pg: str) -> None:
    store = open_store(pg)
    run_sync(store.create_session(record("a")))
    run_sync(store.create_session(record("b")))
    barrier = threading.Barrier(2)
    attempts: list[str] = []

    def lock_both(first: str, second: str) -> Any:
        def work(tx: Tx) -> str:
            attempts.append(first)
            tx.one("SELECT handle FROM sessions WHERE handle = ?", (first,), for_update=True)
            if len(attempts) <= 2:
                barrier.wait(timeout=10)  # both hold their first row: a deadlock
            tx.one("SELECT handle FROM sessions WHERE handle = ?", (second,), for_update=True)
            return first

        return store.database.run(Kind.WRITE, work)

    done: list[Any] = []
    threads = [
        threading.Thread(target=lambda: done.append(lock_both("a", "b"))),
        threading.Thread(target=lambda: done.append(lock_both("b", "a"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == ["a", "b"]
    assert len(attempts) == 3  # PostgreSQL broke the deadlock by failing one; it ran again
    store.close()


def test_a_full_pool_answers_unavailable_after_its_timeout(pg: str) -> None:
    store = open_store(
        pg.replace("pool_max=4", "pool_max=1").replace("pool_timeout=10", "pool_timeout=0.3")
    )
    holding = threading.Event()

    def hold(tx: Tx) -> None:
        holding.set()
        tx.one("SELECT pg_sleep(1.5)")

    thread = threading.Thread(target=lambda: store.database.run(Kind.READ, hold))
    thread.start()
    holding.wait(timeout=10)
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError, match="no connection") as caught:
        run_sync(store.get_session("h1"))
    assert time.monotonic() - started < 1.2
    assert caught.value.retry_after_s == 1
    thread.join()
    assert run_sync(store.get_session("h1")) is None  # the connection is back
    store.close()


@pytest.fixture
def proxy(server_url: str) -> Iterator[TcpProxy]:
    parts = server_url.split("@")[-1].split("/")[0].split(":")
    with TcpProxy((parts[0], int(parts[1]) if len(parts) > 1 else 5432)) as running:
        yield running


def test_the_pool_recovers_by_itself_when_the_database_returns(pg: str, proxy: TcpProxy) -> None:
    url = through(pg, proxy.port).replace("pool_timeout=10", "pool_timeout=0.5")
    store = open_store(url)
    run_sync(store.create_session(record()))
    proxy.cut()  # the server "restarts": every connection is reset, new ones are refused
    for _ in range(3):
        with pytest.raises(StorageUnavailableError):
            run_sync(store.get_session("h1"))
    proxy.restore()
    deadline = time.monotonic() + 15
    while True:
        try:
            found = run_sync(store.get_session("h1"))
            break
        except StorageUnavailableError:
            assert time.monotonic() < deadline, "the pool did not reconnect"
            time.sleep(0.2)
    assert found is not None
    proxy.cut()
    proxy.restore()  # a blip between two requests: the dead connection is replaced at once
    assert run_sync(store.get_session("h1")) is not None
    store.close()
