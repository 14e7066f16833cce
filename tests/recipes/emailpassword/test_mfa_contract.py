"""The cross-recipe contract with multi-factor auth: email-password is a first factor."""

from __future__ import annotations

from bastion.recipe import multifactorauth
from tests.recipes.emailpassword.conftest import StartEP, sign_in, sign_up


def test_sign_in_marks_the_first_factor_and_feeds_mfa_info(start_ep: StartEP) -> None:
    stack = start_ep(
        "fastapi", extra_recipes=(multifactorauth.init(first_factors=["emailpassword"]),)
    )
    with stack.client() as client:
        user_id = sign_up(client, "Mfa@Example.com").json()["user"]["id"]
        assert "emailpassword" in client.payload()["st-mfa"]["c"]
    with stack.client() as client:
        assert sign_in(client, "mfa@example.com").json()["status"] == "OK"
        claim = client.payload()["st-mfa"]
        assert list(claim["c"]) == ["emailpassword"]
        assert claim["v"] is True
        info = client.request("PUT", "/auth/mfa/info", headers={"rid": "multifactorauth"})
        assert info.status_code == 200
        assert info.json()["emails"]["emailpassword"] == ["Mfa@Example.com"]
        assert "emailpassword" in info.json()["factors"]["alreadySetup"]
    recipe = stack.recipe
    from bastion.bridge import run_sync

    assert run_sync(recipe.get_factors_set_up_for_user(user_id, {})) == ["emailpassword"]
    assert run_sync(recipe.get_factors_set_up_for_user("someone-else", {})) == []


def test_a_first_factor_mfa_does_not_allow_gets_no_session(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", extra_recipes=(multifactorauth.init(first_factors=["thirdparty"]),))
    with stack.client() as client:
        refused = sign_up(client, "nope@example.com")
        assert refused.status_code == 401
        assert client.get("/verify").status_code == 401
