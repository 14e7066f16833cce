"""Common passwords and passwords made of the context are refused at sign-up, reset and change
(NIST SP 800-63B 5.1.1.2; ASVS 5.0 6.2.4, 6.2.11), with a FIELD_ERROR the SDK shows as is."""

from __future__ import annotations

import pytest

from bastion.bridge import run_sync
from tests.security.conftest import PASSWORD, Stack, StartStack, api, form, reset_token

EMAIL = "zbigniew.kowalski@example.com"
COMMON_PASSWORD = "This password is too common: please choose one that is harder to guess"
CONTEXT_PASSWORD = (
    "Password must not be based on your email address or the name of this site: please choose "
    "another"
)
REFUSED = [
    ("password1", COMMON_PASSWORD),
    ("qwerty123", COMMON_PASSWORD),
    ("trustno1", COMMON_PASSWORD),
    ("PASSWORD1", COMMON_PASSWORD),  # case does not help
    ("Password2024!", COMMON_PASSWORD),  # nor digits and signs around a common one
    ("zbigniew.kowalski1", CONTEXT_PASSWORD),  # the email's local part + 1
    ("Kowalski1984", CONTEXT_PASSWORD),  # a part of it
    ("bastion-tests1", CONTEXT_PASSWORD),  # the app's name
    ("Bastion!2024", CONTEXT_PASSWORD),  # a part of it
]


def field_error(message: str) -> dict[str, object]:
    return {"status": "FIELD_ERROR", "formFields": [{"id": "password", "error": message}]}


def _users(stack: Stack) -> int:
    return run_sync(stack.app.store.count_users(tenant_id="public"))


@pytest.mark.parametrize(("password", "message"), REFUSED, ids=[p for p, _ in REFUSED])
def test_sign_up_refuses_common_and_context_passwords(
    start_stack: StartStack, password: str, message: str
) -> None:
    stack = start_stack()
    with stack.client() as client:
        refused = stack.sign_up(client, EMAIL, password)
        assert (refused.status_code, refused.json()) == (200, field_error(message))
        assert "front-token" not in refused.headers  # no session
    assert _users(stack) == 0


def test_reset_refuses_them_and_keeps_the_link(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        assert stack.sign_up(client, EMAIL).json()["status"] == "OK"
        asked = api(
            client, "POST", "/user/password/reset/token", form(email=EMAIL), "emailpassword"
        )
        assert asked.json() == {"status": "OK"}
        token = reset_token(stack.reset_link(EMAIL))
        for password, message in REFUSED:
            body = {"token": token, **form(password=password)}
            refused = api(client, "POST", "/user/password/reset", body, "emailpassword")
            assert refused.json() == field_error(message), password
        assert stack.sign_in(client, EMAIL).json()["status"] == "OK"  # nothing changed
        body = {"token": token, **form(password="a brand new passphrase 7")}
        assert api(client, "POST", "/user/password/reset", body, "emailpassword").json() == {
            "status": "OK"
        }


def test_change_refuses_them(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        assert stack.sign_up(client, EMAIL).json()["status"] == "OK"
        stack.enroll(client)  # TOTP is required by the app, and just done: a fresh step-up
        for password, message in REFUSED:
            change = {"oldPassword": PASSWORD, "newPassword": password}
            refused = client.post("/account/password", json=change)
            assert refused.json() == field_error(message), password
        assert stack.sign_in(client, EMAIL).json()["status"] == "OK"


def test_the_nist_policy_checks_length_not_composition(start_stack: StartStack) -> None:
    from bastion.recipe.emailpassword import PasswordPolicy

    stack = start_stack(ep_options={"password_policy": PasswordPolicy.nist()})
    with stack.client() as client:
        too_short = stack.sign_up(client, EMAIL, "short12")
        assert too_short.json() == field_error("Password must contain at least 8 characters")
        too_long = stack.sign_up(client, EMAIL, "x" * 129)
        assert too_long.json() == field_error("Password's length must be at most 128 characters")
        common = stack.sign_up(client, EMAIL, "trustno1")
        assert common.json() == field_error(COMMON_PASSWORD)
        # No digit, no upper case: fine by NIST (SuperTokens' rule would ask for a number).
        assert stack.sign_up(client, EMAIL, "correct horse battery staple").json()["status"] == "OK"


def test_supertokens_rule_stays_the_default(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        no_digit = stack.sign_up(client, EMAIL, "correct horse battery staple")
        assert no_digit.json() == field_error("Password must contain at least one number")
