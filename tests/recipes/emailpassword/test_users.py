"""User management (``bastion.asyncio``/``syncio``) and ``update_email_or_password``, with the
effects a user would notice over HTTP: revoked sessions, dead links, a lifted lock."""

from __future__ import annotations

import asyncio

import pytest

from bastion import asyncio as users_async
from bastion import syncio as users
from bastion.errors import BadInputError, ConfigError
from bastion.recipe.emailpassword import SignInThrottling
from bastion.recipe.emailpassword import syncio as ep
from tests.recipes.emailpassword.conftest import PASSWORD, StartEP, form, sign_in, sign_up


def test_get_list_count_and_page_through_users(start_ep: StartEP) -> None:
    stack = start_ep("flask")
    ids = []
    for i in range(5):
        with stack.client() as client:
            ids.append(sign_up(client, f"User{i}@Example.com").json()["user"]["id"])
        stack.clock.advance(1)

    user = users.get_user(ids[2])
    assert user is not None
    assert user.emails == ["User2@Example.com"]
    assert user.to_json()["loginMethods"][0]["recipeUserId"] == ids[2]
    assert users.get_user("no-such-user") is None
    found = users.get_user_by_email("user2@EXAMPLE.com")
    assert found is not None
    assert found.id == ids[2]
    by_info = users.list_users_by_account_info(
        "public", users.AccountInfo(email="USER3@example.com")
    )
    assert [u.id for u in by_info] == [ids[3]]
    assert users.list_users_by_account_info("public", users.AccountInfo()) == []
    assert users.get_user_count() == 5

    page = users.get_users_oldest_first(limit=2)
    collected = [u.id for u in page.users]
    while page.next_pagination_token is not None:
        page = users.get_users_oldest_first(limit=2, pagination_token=page.next_pagination_token)
        collected += [u.id for u in page.users]
    assert collected == ids
    newest = users.get_users_newest_first(limit=3)
    assert [u.id for u in newest.users] == ids[::-1][:3]
    with pytest.raises(BadInputError):
        users.get_users_newest_first(pagination_token="not-a-token")
    with pytest.raises(ConfigError):
        users.get_users_newest_first(limit=501)
    # The async faces are the same functions.
    assert asyncio.run(users_async.get_user_count()) == 5


def test_delete_user_ends_its_sessions_and_frees_the_email(start_ep: StartEP) -> None:
    stack = start_ep("fastapi")
    with stack.client() as client:
        user_id = sign_up(client, "leaving@example.com").json()["user"]["id"]
        assert users.delete_user(user_id) is True
        assert client.refresh().status_code == 401
        assert users.get_user(user_id) is None
        assert sign_in(client, "leaving@example.com").json()["status"] == "WRONG_CREDENTIALS_ERROR"
        assert sign_up(client, "leaving@example.com").json()["status"] == "OK"
    assert users.delete_user(user_id) is False


def test_update_password_revokes_sessions_voids_reset_links_and_checks_policy(
    start_ep: StartEP,
) -> None:
    stack = start_ep("django-wsgi", sign_in_throttling=SignInThrottling(account_attempts=2))
    with stack.client() as client:
        user_id = sign_up(client, "change@example.com").json()["user"]["id"]
        client.post("/auth/user/password/reset/token", json=form(email="change@example.com"))
        link = stack.outbox.messages[-1].text.split("token=")[1].split("&")[0]
        for guess in ("a", "b"):
            sign_in(client, "change@example.com", guess)
        assert sign_in(client, "change@example.com").status_code == 429

        weak = ep.update_email_or_password(user_id, password="short")
        assert weak.status == "PASSWORD_POLICY_VIOLATED_ERROR"
        assert (
            weak.failure_reason == "Password must contain at least 8 characters, including a number"
        )
        assert (
            ep.update_email_or_password("ghost", password="whatever 123").status
            == "UNKNOWN_USER_ID_ERROR"
        )
        assert ep.update_email_or_password(user_id, password="changed pass 9").status == "OK"

        assert client.refresh().status_code == 401  # signed out everywhere
        dead = client.post(
            "/auth/user/password/reset", json={**form(password="another one 8"), "token": link}
        )
        assert dead.json() == {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
        # The change lifted the throttle: the new password works at once.
        assert sign_in(client, "change@example.com", "changed pass 9").json()["status"] == "OK"
    with stack.client() as client:
        sign_up(client, "taken@example.com")
    assert (
        ep.update_email_or_password(user_id, email="TAKEN@example.com").status
        == "EMAIL_ALREADY_EXISTS_ERROR"
    )
    assert ep.update_email_or_password(user_id, email=" moved@example.com ").status == "OK"
    moved = users.get_user(user_id)
    assert moved is not None
    assert moved.emails == ["moved@example.com"]
    with stack.client() as client:
        assert sign_in(client, "moved@example.com", "changed pass 9").json()["status"] == "OK"


def test_password_change_can_keep_sessions(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", revoke_sessions_on_password_change=False)
    with stack.client() as client:
        user_id = sign_up(client, "keep@example.com").json()["user"]["id"]
        assert ep.update_email_or_password(user_id, password="new password 1").status == "OK"
        assert client.refresh().status_code == 200


def test_server_side_sign_up_sign_in_and_reset_link(start_ep: StartEP) -> None:
    stack = start_ep("fastapi")
    created = ep.sign_up("public", "Server@Example.com", PASSWORD)
    assert created.status == "OK"
    assert (
        ep.sign_up("public", "server@example.com", PASSWORD).status == "EMAIL_ALREADY_EXISTS_ERROR"
    )
    assert ep.sign_in("public", "SERVER@example.com", PASSWORD).status == "OK"
    assert ep.sign_in("public", "server@example.com", "nope").status == "WRONG_CREDENTIALS_ERROR"
    link = ep.create_reset_password_link("public", created.user.id)
    assert isinstance(link, str)
    assert link.startswith("http://127.0.0.1:3000/auth/reset-password?token=")
    token = link.split("token=")[1].split("&")[0]
    assert ep.reset_password_using_token("public", token, "reset by server 1").status == "OK"
    assert ep.sign_in("public", "server@example.com", "reset by server 1").status == "OK"
    assert ep.send_reset_password_email("public", created.user.id) is True
    assert stack.outbox.messages[-1].to == "Server@Example.com"
    assert ep.send_reset_password_email("public", "ghost") is False
