"""The ``bastion`` command line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.bridge import run_sync
from bastion.cli import main
from bastion.core.crypto import SecretBox
from bastion.storage.base import SessionRecord
from bastion.storage.sqlite import SQLiteStore


def test_generate_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-key"]) == 0
    key = capsys.readouterr().out.strip()
    box = SecretBox([key])
    assert box.open(box.seal(b"x", b"ad"), b"ad") == b"x"


def test_migrate_and_cleanup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith("schema version ")
    store = SQLiteStore(str(tmp_path / "ops.db"))
    for handle, expires in (("old", 1), ("live", 10**15)):
        run_sync(
            store.create_session(
                SessionRecord(handle, "u", "u", "public", {}, {}, "h", None, None, 0, expires)
            )
        )
    store.close()
    assert main(["cleanup", "--database-url", url]) == 0
    assert "sessions: 1 expired rows deleted" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert [r[0] for r in conn.execute("SELECT handle FROM sessions")] == ["live"]


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
