"""A password reset is all or nothing, even when the server dies in the middle of it.

The server runs in a process of its own; a sqlite3 trace callback (test code only, see
``tests/apps/account_server.py``) kills it with ``os._exit`` just before its N-th write
statement, for N = 1, 2, ... until the reset completes. After each crash a fresh server on the
same file must show the reset either fully done (old sessions revoked, link used up, only the new
password works) or not done at all (link still usable, old password and old session still good).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx

from bastion.email import InMemoryOutbox
from bastion.recipe.emailpassword import syncio as ep_syncio
from bastion.recipe.emailpassword.interfaces import CreateResetPasswordOkResult, SignUpOkResult
from bastion.recipe.session import syncio as session_syncio
from tests.apps import account_app
from tests.apps.account_server import CRASH_EXIT_CODE
from tests.security.conftest import ServerProcess, form

EMAIL = "lin@example.com"
OLD, NEW, THIRD = (
    "correct horse battery staple 9",
    "a brand new passphrase 7",
    "yet another 5 words",
)
NOT_DONE = ("OK", "WRONG_CREDENTIALS_ERROR", 200, "OK")
DONE = ("WRONG_CREDENTIALS_ERROR", "OK", 401, "RESET_PASSWORD_INVALID_TOKEN_ERROR")


def _prepare(db: Path) -> tuple[str, str]:
    """A user with a session from before the reset and a reset link: (refresh token, token)."""
    app = account_app.init(f"sqlite:///{db}", outbox=InMemoryOutbox())
    try:
        up = ep_syncio.sign_up("public", EMAIL, OLD)
        assert isinstance(up, SignUpOkResult)
        old_session = session_syncio.create_new_session_without_request_response(up.user.id)
        refresh = old_session.get_all_session_tokens_dangerously()["refreshToken"]
        created = ep_syncio.create_reset_password_token("public", up.user.id)
        assert isinstance(created, CreateResetPasswordOkResult)
        return str(refresh), created.token
    finally:
        app.close()


def _reset(http: httpx.Client, token: str, password: str) -> Any:
    body = {"token": token, **form(password=password)}
    return http.post("/auth/user/password/reset", json=body, headers={"rid": "emailpassword"})


def _observe(url: str, refresh: str, token: str) -> tuple[Any, ...]:
    """What a client can tell about the reset: which password signs in, whether the old session
    still refreshes, whether the link still works (tried last: it uses the link up)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        statuses = []
        for password in (OLD, NEW):
            answer = http.post(
                "/auth/signin",
                json=form(email=EMAIL, password=password),
                headers={"rid": "emailpassword", "st-auth-mode": "header"},
            )
            statuses.append(answer.json()["status"])
        refreshed = http.post(
            "/auth/session/refresh",
            headers={
                "rid": "session",
                "st-auth-mode": "header",
                "authorization": f"Bearer {refresh}",
            },
        )
        return (*statuses, refreshed.status_code, _reset(http, token, THIRD).json()["status"])


def test_a_crash_at_any_write_of_a_reset_leaves_it_done_or_not_done(
    tmp_path: Path, processes: Any
) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    for crash_at in itertools.count(1):
        assert crash_at < 30, "the reset never completed"
        db, outbox = tmp_path / f"reset-{crash_at}.db", tmp_path / f"outbox-{crash_at}.jsonl"
        refresh, token = _prepare(db)
        doomed: ServerProcess = processes(db, outbox, crash_at=crash_at)
        try:
            with httpx.Client(base_url=doomed.url, timeout=30) as http:
                answer = _reset(http, token, NEW)
        except httpx.TransportError:  # the process died under the request
            answer = None
        if answer is not None:  # fewer writes than crash_at: the reset ran to its end
            assert answer.json() == {"status": "OK"}
            doomed.stop()
            assert _observe(processes(db, outbox).url, refresh, token) == DONE
            break
        assert doomed.wait_dead() == CRASH_EXIT_CODE
        died_before = doomed.stderr().strip().splitlines()[-1]
        state = _observe(processes(db, outbox).url, refresh, token)
        assert state in (NOT_DONE, DONE), f"half a reset after a crash before {died_before}"
        seen.append((died_before, state))
    # The reset's writes were all crashed at (password, link, sessions, ...; the commit last).
    assert len(seen) >= 4, seen
    assert seen[-1][0].endswith(": COMMIT"), seen
    assert all(state == NOT_DONE for _, state in seen), seen  # nothing counts before COMMIT
