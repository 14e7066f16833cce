"""The issue's flow with the real first factor: email-password sign-up and sign-in, then TOTP."""

from __future__ import annotations

from typing import Any

import bastion
from bastion.clock import ManualClock
from bastion.recipe import emailpassword, multifactorauth, session, totp
from tests.conftest import app_info
from tests.databases import Databases
from tests.recipes.mfa.apps import fastapi_app
from tests.recipes.mfa.conftest import T0_MS, MFAStack, api, enroll, mfa_claim

EMAIL, PASSWORD = "ada@example.com", "correct horse battery staple 9"


def _form(email: str, password: str) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


def test_sign_up_then_totp_then_sign_in_then_totp(databases: Databases, serve: Any) -> None:
    clock = ManualClock(T0_MS)
    app = bastion.init(
        app_info=app_info(),
        recipe_list=[
            session.init(),
            emailpassword.init(),
            # The one line that requires TOTP of every user:
            multifactorauth.init(
                first_factors=["emailpassword"], required_secondary_factors=["totp"]
            ),
            totp.init(),
        ],
        database_url=databases.fresh("ep"),
        clock=clock,
    )
    try:
        stack = MFAStack("fastapi", serve(fastapi_app()).url, clock, app)
        with stack.client() as client:
            up = api(client, "POST", "/signup", _form(EMAIL, PASSWORD), rid="emailpassword")
            assert up.json()["status"] == "OK", up.text
            assert set(mfa_claim(client)["c"]) == {"emailpassword"}
            assert client.get("/protected").status_code == 403
            info = api(client, "PUT", "/mfa/info", {}, rid="multifactorauth").json()
            assert info["factors"] == {
                "next": ["totp"],
                "alreadySetup": ["emailpassword"],
                "allowedToSetup": ["totp"],
            }
            assert info["emails"] == {"emailpassword": [EMAIL]}
            created = api(client, "POST", "/totp/device", {}).json()
            assert ":ada%40example.com?" in created["qrCodeString"]  # the account label
            api(client, "POST", "/totp/device/remove", {"deviceName": created["deviceName"]})
            secret = enroll(stack, client)
            assert client.get("/protected").status_code == 200
        clock.advance(30)
        with stack.client("header") as client:
            signin = api(client, "POST", "/signin", _form(EMAIL, PASSWORD), rid="emailpassword")
            assert signin.json()["status"] == "OK"
            assert client.get("/protected").status_code == 403
            assert api(client, "POST", "/totp/verify", {"totp": stack.code(secret)}).json() == {
                "status": "OK"
            }
            assert client.get("/protected").status_code == 200
    finally:
        app.close()
