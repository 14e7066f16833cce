"""The account app (``tests/apps/account_app.py``) in a process of its own, on a SQLite file.

For tests that run two servers on one database, or kill one in the middle of a request.
Configured by environment variables (this is a test program, not part of bastion):

- ``BASTION_TEST_DB``: the SQLite file; ``BASTION_TEST_PORT``: the port on 127.0.0.1;
- ``BASTION_TEST_OUTBOX``: a file the emails are appended to, one JSON object per line;
- ``BASTION_TEST_CRASH_AT=N`` (optional): once serving, the process dies (``os._exit``) just
  before its N-th write statement (``INSERT``, ``UPDATE``, ``DELETE``, ``COMMIT``) reaches
  SQLite: a sqlite3 trace callback on every connection of a database subclass made here. Each
  is echoed to stderr as ``write <n>: <verb and table>``, so a test can say where it died.

Run as ``python -m tests.apps.account_server`` from the repository root.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading

import uvicorn

from bastion.email import EmailMessage
from bastion.storage.sqlite import SQLiteDatabase
from bastion.storage.store import SQLStore
from tests.apps import account_app

WRITES = ("INSERT", "UPDATE", "DELETE", "COMMIT")
CRASH_EXIT_CODE = 97


class FileOutbox:
    """Appends each email to a file as a JSON line (the test process reads the links)."""

    in_background = False

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        line = json.dumps({"to": message.to, "kind": message.kind, "text": message.text})
        with self._lock, open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


class CrashingDatabase(SQLiteDatabase):
    """A SQLite database whose process dies before the N-th write once :attr:`armed`."""

    def __init__(self, path: str, crash_at: int) -> None:
        self.crash_at = crash_at
        self.writes = 0
        self.armed = False
        super().__init__(path)

    def _open(self) -> sqlite3.Connection:
        conn = super()._open()
        conn.set_trace_callback(self._trace)
        return conn

    def _trace(self, statement: str) -> None:
        if not self.armed or not statement.lstrip().upper().startswith(WRITES):
            return
        self.writes += 1
        words = statement.split()  # the verb and the table, not the values (hashes, tokens)
        sys.stderr.write(f"write {self.writes}: {' '.join(words[:3])}\n")
        sys.stderr.flush()
        if self.writes == self.crash_at:
            os._exit(CRASH_EXIT_CODE)  # no cleanup, no rollback: as a power cut or kill -9


def main() -> None:
    path = os.environ["BASTION_TEST_DB"]
    crash_at = os.environ.get("BASTION_TEST_CRASH_AT")
    database = CrashingDatabase(path, int(crash_at)) if crash_at else None
    store = SQLStore(database) if database else None
    account_app.init(
        None if store else f"sqlite:///{path}",
        store=store,
        outbox=FileOutbox(os.environ["BASTION_TEST_OUTBOX"]),
    )
    if database is not None:
        database.armed = True  # start-up writes (keys, secrets) are not the request's
    uvicorn.run(
        account_app.build(),
        host="127.0.0.1",
        port=int(os.environ["BASTION_TEST_PORT"]),
        log_level="warning",
        lifespan="off",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
