"""Account enumeration (security guide test 11) and the sign-up race (test 51), over HTTP.

The timing side of enumeration is measured by ``bench/emailpassword_enumeration.py``.
"""

from __future__ import annotations

import concurrent.futures

import httpx

from bastion.recipe.emailpassword import SignInThrottling
from bastion.syncio import get_user_by_email, get_user_count
from tests.recipes.emailpassword.conftest import PASSWORD, StartEP, form, sign_up

HEADERS = {"rid": "emailpassword", "st-auth-mode": "cookie"}
VOLATILE = {"date", "content-length"}


def _answer(
    http: httpx.Client, path: str, body: dict[str, object]
) -> tuple[int, object, list[str]]:
    response = http.post(path, json=body, headers=HEADERS)
    names = sorted(k for k in response.headers if k not in VOLATILE)
    return response.status_code, response.json(), names


def test_unknown_email_and_wrong_password_look_the_same(start_ep: StartEP, framework: str) -> None:
    stack = start_ep(framework, sign_in_throttling=SignInThrottling(account_attempts=3))
    with stack.client() as client:
        sign_up(client, "known@example.com")
    hasher = stack.recipe.hasher
    with httpx.Client(base_url=stack.url) as http:
        for _ in range(3):
            before = hasher.verifications
            known = _answer(http, "/auth/signin", form(email="known@example.com", password="nope"))
            assert hasher.verifications == before + 1
            unknown = _answer(
                http, "/auth/signin", form(email="ghost@example.com", password="nope")
            )
            assert hasher.verifications == before + 2  # the dummy hash: same work
            assert known == unknown == (200, {"status": "WRONG_CREDENTIALS_ERROR"}, known[2])
        # Throttled: the same 429 for both, and no hashing for either.
        before = hasher.verifications
        known = _answer(http, "/auth/signin", form(email="known@example.com", password=PASSWORD))
        unknown = _answer(http, "/auth/signin", form(email="ghost@example.com", password=PASSWORD))
        assert known == unknown
        assert known[0] == 429
        assert hasher.verifications == before

        asked_known = _answer(
            http, "/auth/user/password/reset/token", form(email="known@example.com")
        )
        asked_unknown = _answer(
            http, "/auth/user/password/reset/token", form(email="ghost@example.com")
        )
        assert asked_known == asked_unknown == (200, {"status": "OK"}, asked_known[2])
    assert [m.to for m in stack.outbox.messages] == ["known@example.com"]


def test_50_parallel_sign_ups_in_case_variants_make_one_account(
    start_ep: StartEP, framework: str
) -> None:
    stack = start_ep(framework)
    variants = [
        "".join(c.upper() if (i >> n) & 1 else c for n, c in enumerate("racer@example.com"))
        for i in range(50)
    ]
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    with (
        httpx.Client(base_url=stack.url, timeout=60, limits=limits) as http,
        concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool,
    ):
        answers = list(
            pool.map(
                lambda email: http.post(
                    "/auth/signup", json=form(email=email, password=PASSWORD), headers=HEADERS
                ),
                variants,
            )
        )
    assert sorted(a.status_code for a in answers) == [200] * 50
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["FIELD_ERROR"] * 49 + ["OK"]
    winner = next(a.json()["user"] for a in answers if a.json()["status"] == "OK")
    assert get_user_count() == 1
    user = get_user_by_email("RACER@EXAMPLE.COM")
    assert user is not None
    assert user.id == winner["id"]
