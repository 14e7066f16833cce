"""Sign-in throttling over real HTTP (security guide tests 13-17): counted before hashing,
atomic under 200 parallel requests, per account across email case variants, per client
address, a hard stop after 100 consecutive failures that only a password reset lifts."""

from __future__ import annotations

import concurrent.futures
import secrets
from typing import Any

import httpx
import pytest

from bastion.recipe.emailpassword import SignInThrottling
from tests.recipes.emailpassword.conftest import EPStack, StartEP, form, sign_in, sign_up

HEADERS = {"rid": "emailpassword", "st-auth-mode": "cookie"}
ACCOUNT_THROTTLED = {
    "message": "Too many failed sign-in attempts for this account. Please try again later."
}
ACCOUNT_LOCKED = {
    "message": "Too many failed sign-in attempts for this account. "
    "Reset your password to sign in again."
}
CLIENT_THROTTLED = {"message": "Too many failed sign-in attempts. Please try again later."}
WRONG = {"status": "WRONG_CREDENTIALS_ERROR"}

# The same account, spelt differently: case, and NFKC compatibility forms (fullwidth letters).
VARIANTS = [
    "Target@Example.com",
    "target@EXAMPLE.COM",
    "TARGET@example.com",
    "\uff54\uff41\uff52\uff47\uff45\uff54@example.com",  # fullwidth "target"
]


def _post_many(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST every body to ``/auth/signin`` at once (50 connections in flight)."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    with (
        httpx.Client(base_url=url, timeout=60, limits=limits) as http,
        concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool,
    ):
        return list(pool.map(lambda b: http.post("/auth/signin", json=b, headers=HEADERS), bodies))


def _signed_up(stack: EPStack, email: str = "target@example.com") -> None:
    with stack.client() as client:
        assert sign_up(client, email).json()["status"] == "OK"


def test_200_parallel_wrong_passwords_run_at_most_n_hash_checks(
    start_ep: StartEP, framework: str
) -> None:
    stack = start_ep(framework, sign_in_throttling=SignInThrottling(account_attempts=10))
    _signed_up(stack)
    hasher = stack.recipe.hasher
    before = hasher.verifications

    bodies = [
        form(email=VARIANTS[i % len(VARIANTS)], password=f"wrong password {i}") for i in range(200)
    ]
    answers = _post_many(stack.url, bodies)

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 10 + [429] * 190
    assert hasher.verifications - before == 10
    assert all(r.json() == WRONG for r in answers if r.status_code == 200)
    throttled = [r for r in answers if r.status_code == 429]
    assert all(r.json() == ACCOUNT_THROTTLED for r in throttled)
    assert all(1 <= int(r.headers["retry-after"]) <= 900 for r in throttled)

    # The lock holds for every spelling, even with the right password, and runs no hash.
    with stack.client() as client:
        for variant in VARIANTS:
            refused = sign_in(client, variant)
            assert (refused.status_code, refused.json()) == (429, ACCOUNT_THROTTLED)
    assert hasher.verifications - before == 10

    stack.clock.advance(15 * 60)
    with stack.client() as client:
        assert sign_in(client, "TARGET@example.com").json()["status"] == "OK"


def test_100_consecutive_failures_lock_the_account_until_a_password_reset(
    start_ep: StartEP,
) -> None:
    stack = start_ep("fastapi")
    _signed_up(stack)
    hasher = stack.recipe.hasher
    with stack.client() as client:
        for window in range(10):
            for attempt in range(10):
                wrong = sign_in(client, VARIANTS[attempt % 4], f"guess {window}-{attempt}")
                assert wrong.json() == WRONG
            refused = sign_in(client, "target@example.com", "one more guess")
            expected = ACCOUNT_LOCKED if window == 9 else ACCOUNT_THROTTLED
            assert (refused.status_code, refused.json()) == (429, expected)
            stack.clock.advance(15 * 60)

        verified = hasher.verifications
        locked = sign_in(client, "target@example.com")  # attempt 101, the right password
        assert (locked.status_code, locked.json()) == (429, ACCOUNT_LOCKED)
        assert "retry-after" not in locked.headers
        assert "front-token" not in locked.headers
        stack.clock.advance(7 * 24 * 3600)  # waiting does not help
        assert sign_in(client, "target@example.com").status_code == 429
        assert hasher.verifications == verified

        client.post("/auth/user/password/reset/token", json=form(email="target@example.com"))
        link = next(w for w in stack.outbox.messages[-1].text.split() if w.startswith("http"))
        token = link.split("token=")[1].split("&")[0]
        reset = client.post(
            "/auth/user/password/reset", json={**form(password="brand new 123"), "token": token}
        )
        assert reset.json() == {"status": "OK"}
        assert sign_in(client, "target@example.com", "brand new 123").json()["status"] == "OK"


def test_a_success_clears_only_that_accounts_failures(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", sign_in_throttling=SignInThrottling(client_attempts=5))
    _signed_up(stack, "victim@example.com")
    _signed_up(stack, "attacker@example.com")
    recipe = stack.recipe
    with stack.client() as client:
        for i in range(4):
            assert sign_in(client, "victim@example.com", f"guess {i}").json() == WRONG
        # The attacker's own good sign-in from the same address...
        assert sign_in(client, "attacker@example.com").json()["status"] == "OK"
        victim = _run(recipe.limiter.state(recipe.account_limit, "victim@example.com"))
        assert victim.consecutive == 4  # ...leaves the victim's counter alone
        assert sign_in(client, "victim@example.com", "guess 5").json() == WRONG
        refused = sign_in(client, "victim@example.com", "guess 6")
        assert (refused.status_code, refused.json()) == (429, CLIENT_THROTTLED)
        # ...and did not clear the address's failures either.
        assert sign_in(client, "attacker@example.com").status_code == 429


def _run(coro: Any) -> Any:
    from bastion.bridge import run_sync

    return run_sync(coro)


MALFORMED = ["a", "", "::::", "x" * 10_000, "1.2.3.4, , ,", "999.1.1.1", "[::1", "unknown"]


def test_x_forwarded_for_is_ignored_without_trusted_proxies(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", sign_in_throttling=SignInThrottling(client_attempts=5))
    with httpx.Client(base_url=stack.url) as http:
        for i in range(5):
            spoofed = {**HEADERS, "x-forwarded-for": f"198.51.100.{i}", "x-real-ip": f"10.0.0.{i}"}
            answer = http.post(
                "/auth/signin", json=form(email=f"u{i}@example.com", password="x"), headers=spoofed
            )
            assert answer.json() == WRONG
        for value in MALFORMED:
            answer = http.post(
                "/auth/signin",
                json=form(email=f"{secrets.token_hex(4)}@example.com", password="x"),
                headers={**HEADERS, "x-forwarded-for": value, "forwarded": f"for={value[:50]}"},
            )
            assert (answer.status_code, answer.json()) == (429, CLIENT_THROTTLED), value


def test_trusted_proxy_forwards_the_client_address(start_ep: StartEP) -> None:
    stack = start_ep(
        "fastapi",
        sign_in_throttling=SignInThrottling(client_attempts=3),
        trusted_proxies=("127.0.0.0/8",),
    )

    def attempt(forwarded: str) -> httpx.Response:
        with httpx.Client(base_url=stack.url) as http:
            return http.post(
                "/auth/signin",
                json=form(email=f"{secrets.token_hex(4)}@example.com", password="x"),
                headers={**HEADERS, "x-forwarded-for": forwarded},
            )

    for _ in range(3):
        assert attempt("203.0.113.9").json() == WRONG
    assert attempt("203.0.113.9").status_code == 429
    # A made-up left part does not change who the proxy says the client is.
    assert attempt("1.1.1.1, 203.0.113.9").status_code == 429
    assert attempt("garbage, 203.0.113.9").status_code == 429
    # Another client behind the same proxy is not affected.
    assert attempt("203.0.113.10").json() == WRONG


def test_throttling_settings_are_checked() -> None:
    from bastion.errors import ConfigError

    with pytest.raises(ConfigError):
        SignInThrottling(lock_after=101)  # NIST SP 800-63B: at most 100
    with pytest.raises(ConfigError):
        SignInThrottling(account_attempts=0).account_limit()


def test_per_client_limit_on_every_framework(
    start_ep: StartEP, framework: str, caplog: pytest.LogCaptureFixture
) -> None:
    stack = start_ep(framework, sign_in_throttling=SignInThrottling(client_attempts=3))
    caplog.set_level("INFO", logger="bastion.audit")
    with stack.client() as client:
        for i in range(3):
            assert sign_in(client, f"spray{i}@example.com", "Winter2025!").json() == WRONG
        refused = sign_in(client, "spray9@example.com", "Winter2025!")
        assert (refused.status_code, refused.json()) == (429, CLIENT_THROTTLED)
        assert int(refused.headers["retry-after"]) == 900
    events = [
        (r.getMessage(), r.client, r.reason, r.user_id, r.account == stack.app.audit.account_key(e))  # type: ignore[attr-defined]
        for r, e in zip(
            caplog.records, [f"spray{i}@example.com" for i in (0, 1, 2, 9)], strict=True
        )
    ]
    assert events == [("sign_in failure", "127.0.0.1", "wrong_credentials", None, True)] * 3 + [
        ("sign_in throttled", "127.0.0.1", "client_limit", None, True)
    ]
    assert all(
        "spray" not in r.getMessage() and "Winter" not in r.getMessage() for r in caplog.records
    )
