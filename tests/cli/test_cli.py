"""The ``bastion`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bastion
from bastion.bridge import run_sync
from bastion.cli import main
from bastion.clock import ManualClock
from bastion.core.crypto import SecretBox
from bastion.storage import open_store
from bastion.storage.base import SessionRecord
from bastion.storage.migrations import migrations
from tests.conftest import app_info
from tests.databases import Databases, rows


def test_generate_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-key"]) == 0
    key = capsys.readouterr().out.strip()
    box = SecretBox([key])
    assert box.open(box.seal(b"x", b"ad"), b"ad") == b"x"


def test_migrate_and_cleanup(databases: Databases, capsys: pytest.CaptureFixture[str]) -> None:
    url = databases.fresh("ops")
    assert main(["migrate", "--database-url", url]) == 0
    assert capsys.readouterr().out == f"schema version {len(migrations('sqlite'))}\n"
    store = open_store(url)
    for handle, expires in (("old", 1), ("live", 10**15)):
        run_sync(
            store.create_session(
                SessionRecord(handle, "u", "u", "public", {}, {}, "h", None, None, 0, expires)
            )
        )
    store.close()
    assert main(["cleanup", "--database-url", url]) == 0
    assert "sessions: 1 expired rows deleted" in capsys.readouterr().out
    store = open_store(url)
    assert [r[0] for r in rows(store, "SELECT handle FROM sessions")] == ["live"]
    store.close()


def test_cleanup_refuses_a_database_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    assert main(["cleanup", "--database-url", url]) == 2
    assert "run `bastion migrate` first" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()  # nothing created by mistake


def test_an_unreachable_database_is_reported_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://ops:hunter2@127.0.0.1:1/auth?connect_timeout=2"
    assert main(["migrate", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "postgresql://ops:***@127.0.0.1:1/auth" in err and "hunter2" not in err


def test_the_environment_names_the_database(
    databases: Databases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = databases.fresh("env")
    monkeypatch.setenv("BASTION_DATABASE_URL", url)
    app = bastion.init(app_info=app_info(), clock=ManualClock(1_800_000_000_000))
    try:
        assert app.store.database.display_url == mask_display(url)  # type: ignore[attr-defined]
        assert rows(app.store, "SELECT COUNT(*) FROM signing_keys") == [(1,)]
    finally:
        app.close()
    assert main(["cleanup"]) == 0  # the command line reads it too
    assert "sessions: 0 expired rows deleted" in capsys.readouterr().out


def mask_display(url: str) -> str:
    if url.startswith("sqlite"):
        return url
    from bastion.storage.postgres import mask_url

    return mask_url(url)


def test_bad_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database-url", "mysql://x"]) == 2
    assert "unsupported database scheme" in capsys.readouterr().err


def test_module_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "generate-key"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(done.stdout.strip()) >= 43
