"""Security guide test 27 (email OTP) over real HTTP: races, throttling, hostile input, and
what the database holds."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bastion.recipe.passwordless import CodeThrottling
from tests.recipes.passwordless.conftest import (
    FDI,
    PLStack,
    StartPL,
    consume,
    create_code,
    wrong,
)

EMAIL = "ada@example.com"
LOOSE = CodeThrottling(sends_per_client=1000, wrong_codes_per_account=1000)


def passwordless_counters(stack: PLStack) -> list[tuple[Any, ...]]:
    """The recipe's own throttling counters (the app may count every API request too)."""
    return [row for row in stack.rows("rate_counters") if row[0].startswith("passwordless-")]


def _parallel(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST each body to the consume endpoint at once, over as many connections."""
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    with httpx.Client(base_url=url, timeout=30, limits=limits) as http:

        def post(body: dict[str, Any]) -> httpx.Response:
            return http.post("/auth/signinup/code/consume", json=body, headers=FDI)

        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(post, bodies))


def test_fifty_parallel_wrong_guesses_get_at_most_five_checks(
    start_pl: StartPL, framework: str
) -> None:
    stack = start_pl(framework, throttling=LOOSE)
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
    code = stack.code_for(EMAIL)
    guesses = [f"{n:06d}" for n in range(1000) if f"{n:06d}" != code][:50]
    body = {"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"]}
    answers = _parallel(stack.url, [{**body, "userInputCode": g} for g in guesses])
    assert {a.status_code for a in answers} == {200}
    statuses = Counter(a.json()["status"] for a in answers)
    assert statuses == {"INCORRECT_USER_INPUT_CODE_ERROR": 4, "RESTART_FLOW_ERROR": 46}
    counts = sorted(
        a.json()["failedCodeInputAttemptCount"]
        for a in answers
        if a.json()["status"] == "INCORRECT_USER_INPUT_CODE_ERROR"
    )
    assert counts == [1, 2, 3, 4]  # each check counted once: the fifth ended the attempt
    with stack.client() as client:
        assert consume(client, started, code).json() == {"status": "RESTART_FLOW_ERROR"}


def test_fifty_parallel_uses_of_the_right_code_sign_in_once(
    start_pl: StartPL, framework: str
) -> None:
    stack = start_pl(framework, throttling=LOOSE)
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
    body = {
        "preAuthSessionId": started["preAuthSessionId"],
        "deviceId": started["deviceId"],
        "userInputCode": stack.code_for(EMAIL),
    }
    answers = _parallel(stack.url, [body] * 50)
    statuses = Counter(a.json()["status"] for a in answers)
    assert statuses == {"OK": 1, "RESTART_FLOW_ERROR": 49}
    assert len(stack.rows("users")) == 1
    assert len(stack.rows("sessions")) == 1


def test_a_wrong_device_id_burns_no_attempts(start_pl: StartPL) -> None:
    """The preAuthSessionId is in every magic link; alone it must not let anyone kill a
    login attempt by guessing."""
    stack = start_pl()
    with stack.client() as client:
        victim = create_code(client, email=EMAIL).json()
        other = create_code(client, email="mallory@example.com").json()
        forged = {"preAuthSessionId": victim["preAuthSessionId"], "deviceId": other["deviceId"]}
        for _ in range(10):
            assert consume(client, forged, "123456").json() == {"status": "RESTART_FLOW_ERROR"}
        not_base64 = {"preAuthSessionId": victim["preAuthSessionId"], "deviceId": "%%%"}
        assert consume(client, not_base64, "123456").json() == {"status": "RESTART_FLOW_ERROR"}
        assert consume(client, victim, stack.code_for(EMAIL)).json()["status"] == "OK"


def test_sending_is_limited_per_address_and_per_client(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        first = create_code(client, email=EMAIL).json()
        resend = {"deviceId": first["deviceId"], "preAuthSessionId": first["preAuthSessionId"]}
        assert client.post("/auth/signinup/code/resend", json=resend, headers=FDI).json() == {
            "status": "OK"
        }
        assert create_code(client, email="ADA@example.com").json()["status"] == "OK"
        # A fourth code for the address within the minute, by either route: 429.
        refused = create_code(client, email=EMAIL)
        assert refused.status_code == 429
        assert refused.json() == {
            "message": "Too many codes sent to this address. Please try again later."
        }
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        refused = client.post("/auth/signinup/code/resend", json=resend, headers=FDI)
        assert refused.status_code == 429
        assert len([m for m in stack.outbox.messages if m.to.lower() == EMAIL]) == 3
        stack.clock.advance(60)
        assert create_code(client, email=EMAIL).json()["status"] == "OK"
        # Per client: 20 a minute whatever the addresses.
        stack.clock.advance(60)
        answers = [create_code(client, email=f"user{n}@example.com") for n in range(21)]
        assert [a.status_code for a in answers] == [200] * 20 + [429]
        assert answers[-1].json()["message"] == "Too many codes requested. Please try again later."
        assert stack.outbox.to("user20@example.com") == []


def test_wrong_codes_are_limited_per_address_across_attempts(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        for _ in range(4):  # 4 attempts x 5 wrong codes: the hourly 20
            started = create_code(client, email=EMAIL).json()
            code = stack.code_for(EMAIL)
            for _ in range(5):
                consume(client, started, wrong(code))
            stack.clock.advance(61)
        started = create_code(client, email=EMAIL).json()
        code = stack.code_for(EMAIL)
        refused = consume(client, started, code)
        assert refused.status_code == 429  # not even checked
        assert refused.json()["message"] == (
            "Too many wrong codes for this address. Please try again later."
        )
        assert stack.rows("passwordless_devices")[0][11] == 0
        stack.clock.advance(3600 - 4 * 61)
        started = create_code(client, email=EMAIL).json()
        assert consume(client, started, stack.code_for(EMAIL)).json()["status"] == "OK"
        # A success clears the address's count.
        started = create_code(client, email=EMAIL).json()
        assert consume(client, started, wrong(stack.code_for(EMAIL))).status_code == 200


BAD_CREATE: list[tuple[Any, str]] = [
    (b"not json", "the request body is not valid JSON"),
    ([], "the request body must be a JSON object"),
    ({}, "Please provide exactly one of email or phoneNumber"),
    (
        {"email": EMAIL, "phoneNumber": "+14155550100"},
        "Please provide exactly one of email or phoneNumber",
    ),
    (
        {"phoneNumber": "+14155550100"},
        'Please provide an email since you have set the contactMethod to "EMAIL"',
    ),
    ({"email": 5}, "email must be a string"),
    ({"email": ["a@b.co"]}, "email must be a string"),
    (
        {"email": EMAIL, "shouldTryLinkingWithSessionUser": "yes"},
        "shouldTryLinkingWithSessionUser must be a boolean",
    ),
]
BAD_CONSUME: list[tuple[Any, str]] = [
    ({}, "Please provide preAuthSessionId"),
    ({"preAuthSessionId": 1, "linkCode": "x"}, "preAuthSessionId must be a string"),
    (
        {"preAuthSessionId": "p"},
        "Please provide one of (linkCode) or (deviceId+userInputCode) and not both",
    ),
    (
        {"preAuthSessionId": "p", "linkCode": "x", "deviceId": "d", "userInputCode": "1"},
        "Please provide one of (linkCode) or (deviceId+userInputCode) and not both",
    ),
    ({"preAuthSessionId": "p", "deviceId": "d"}, "Please provide both deviceId and userInputCode"),
    (
        {"preAuthSessionId": "p", "deviceId": "d", "userInputCode": 123456},
        "userInputCode must be a string",
    ),
    ({"preAuthSessionId": "p", "linkCode": {"a": 1}}, "linkCode must be a string"),
    (
        {"preAuthSessionId": "p", "linkCode": "x", "shouldTryLinkingWithSessionUser": 1},
        "shouldTryLinkingWithSessionUser must be a boolean",
    ),
]
BAD_RESEND: list[tuple[Any, str]] = [
    ({}, "Please provide a deviceId"),
    ({"deviceId": "d"}, "Please provide a preAuthSessionId"),
    ({"deviceId": 1, "preAuthSessionId": "p"}, "deviceId must be a string"),
]


@pytest.mark.parametrize(
    ("path", "cases"),
    [
        ("/auth/signinup/code", BAD_CREATE),
        ("/auth/signinup/code/consume", BAD_CONSUME),
        ("/auth/signinup/code/resend", BAD_RESEND),
    ],
)
def test_malformed_bodies_are_400_and_store_nothing(
    start_pl: StartPL, path: str, cases: list[tuple[Any, str]]
) -> None:
    stack = start_pl()
    with stack.client() as client:
        for body, message in cases:
            if isinstance(body, bytes):
                headers = {**FDI, "content-type": "application/json"}
                answer = client.post(path, content=body, headers=headers)
            else:
                answer = client.post(path, json=body, headers=FDI)
            assert answer.status_code == 400, body
            assert answer.json() == {"message": message}
    for table in ("passwordless_devices", "users", "login_methods"):
        assert stack.rows(table) == []
    assert passwordless_counters(stack) == []
    assert stack.outbox.messages == []


INVALID_ADDRESSES: list[tuple[dict[str, Any], str]] = [
    ({"email": "not-an-email"}, "Email is invalid"),
    ({"email": "   "}, "Email is invalid"),
    ({"email": "a" * 400 + "@example.com"}, "Email is invalid"),
    ({"phoneNumber": "12345"}, "Phone number is invalid"),
    ({"phoneNumber": "+0123456789"}, "Phone number is invalid"),
    ({"phoneNumber": "+1 415 555 0100 ext 7"}, "Phone number is invalid"),
    (
        {"phoneNumber": "+\u0661\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0660\u0660"},
        "Phone number is invalid",
    ),
]


def test_invalid_addresses_are_general_errors_and_store_nothing(
    start_pl: StartPL, framework: str
) -> None:
    stack = start_pl(framework, contact_method="EMAIL_OR_PHONE")
    with stack.client() as client:
        for body, message in INVALID_ADDRESSES:
            answer = create_code(client, **body)
            assert answer.status_code == 200
            assert answer.json() == {"status": "GENERAL_ERROR", "message": message}
    for table in ("passwordless_devices", "users"):
        assert stack.rows(table) == []
    assert passwordless_counters(stack) == []
    assert stack.outbox.messages == []
    assert stack.sms.messages == []


def test_custom_validators(start_pl: StartPL) -> None:
    async def only_example_com(email: str, tenant_id: str) -> str | None:
        return None if email.endswith("@example.com") else "Use your work address"

    stack = start_pl(
        contact_method="EMAIL_OR_PHONE",
        validate_email_address=only_example_com,
        validate_phone_number=lambda n, t: None if n.startswith("+44") else "UK numbers only",
    )
    with stack.client() as client:
        assert create_code(client, email="a@gmail.com").json() == {
            "status": "GENERAL_ERROR",
            "message": "Use your work address",
        }
        assert create_code(client, email=EMAIL).json()["status"] == "OK"
        assert create_code(client, phoneNumber="+14155550100").json()["message"] == (
            "UK numbers only"
        )
        assert create_code(client, phoneNumber="+44 20 7946 0000").json()["status"] == "OK"
        assert stack.sms.to("+442079460000")


def test_codes_links_and_device_ids_are_not_stored_in_clear(start_pl: StartPL) -> None:
    stack = start_pl(flow_type="USER_INPUT_CODE_AND_MAGIC_LINK")
    secrets_seen: list[str] = []
    with stack.client() as client:
        for n in range(5):
            address = f"user{n}@example.com"
            started = create_code(client, email=address).json()
            link = stack.link_for(address)
            secrets_seen += [stack.code_for(address), link.split("#", 1)[1], started["deviceId"]]
    dump = stack.dump()
    for secret in secrets_seen:
        assert re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", dump) is None
    for row in stack.rows("passwordless_devices"):
        assert re.fullmatch(r"[0-9a-f]{64}", row[9])  # code_hash
        assert re.fullmatch(r"[0-9a-f]{64}", row[10])  # link_code_hash


def test_the_code_key_is_random_per_database(start_pl: StartPL) -> None:
    keys = []
    for _ in range(2):  # one after the other: starting the second app closes the first
        stack = start_pl()
        with stack.client() as client:
            create_code(client, email=EMAIL)
        keys += [bytes(r[1]) for r in stack.rows("secrets") if r[0] == "passwordless-code-key"]
    assert len(keys) == 2
    assert len(keys[0]) == 32
    assert keys[0] != keys[1]
