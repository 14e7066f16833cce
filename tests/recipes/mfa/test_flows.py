"""End to end over real HTTP on every framework: the first factor, then TOTP.

first factor → 403 ``st-mfa`` on a protected route → create and verify a device → 200;
next sign-in → 403 until ``/totp/verify`` → 200.
"""

from __future__ import annotations

import pytest

from tests.recipes.mfa.conftest import FRAMEWORKS, MFAStack, StartMFA, api, enroll, mfa_claim

MFA_403 = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {"id": "st-mfa", "reason": {"message": "MFA requirement for auth is not satisfied"}}
    ],
}


@pytest.mark.parametrize("mode", ["cookie", "header"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_totp_required_for_every_user(start_mfa: StartMFA, framework: str, mode: str) -> None:
    stack = start_mfa(framework)
    with stack.client(mode) as client:
        assert client.post("/first-factor").status_code == 200
        assert mfa_claim(client) == {
            "c": {"emailpassword": stack.clock.now_ms() // 1000},
            "v": False,
        }
        denied = client.get("/protected")
        assert denied.status_code == 403
        assert denied.json() == MFA_403

        info = api(client, "PUT", "/mfa/info", {}, rid="multifactorauth").json()
        assert info["factors"] == {"next": ["totp"], "alreadySetup": [], "allowedToSetup": ["totp"]}

        created = api(client, "POST", "/totp/device", {}).json()
        assert created["status"] == "OK"
        assert created["deviceName"] == "TOTP Device 0"
        assert len(created["secret"]) == 32  # 160 bits of Base32
        assert created["qrCodeString"] == (
            f"otpauth://totp/bastion-tests?secret={created['secret']}&issuer=bastion-tests"
            "&digits=6&period=30"
        )
        assert created["qrCodeSvg"].startswith("<svg")
        # A device that is not verified yet changes nothing.
        assert client.get("/protected").status_code == 403

        verified = api(
            client,
            "POST",
            "/totp/device/verify",
            {"deviceName": "TOTP Device 0", "totp": stack.code(created["secret"])},
        )
        assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}
        # The same response carries the new access token (front-token and all).
        assert "front-token" in verified.headers
        assert mfa_claim(client)["v"] is True
        assert set(mfa_claim(client)["c"]) == {"emailpassword", "totp"}
        assert client.get("/protected").json() == {"user": "user-1"}

    stack.clock.advance(30)
    with stack.client(mode) as client:
        client.post("/first-factor")
        assert client.get("/protected").status_code == 403
        info = api(client, "PUT", "/mfa/info", rid="multifactorauth").json()
        assert info["factors"] == {"next": ["totp"], "alreadySetup": ["totp"], "allowedToSetup": []}
        ok = api(client, "POST", "/totp/verify", {"totp": stack.code(created["secret"])})
        assert ok.json() == {"status": "OK"}
        assert "front-token" in ok.headers
        assert client.get("/protected").json() == {"user": "user-1"}


def test_mfa_info_refreshes_the_claim_and_lists_contacts(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with stack.client() as client:
        client.post("/first-factor")
        response = api(client, "PUT", "/mfa/info", {}, rid="multifactorauth")
        assert response.status_code == 200
        assert response.json() == {
            "status": "OK",
            "factors": {"next": ["totp"], "alreadySetup": [], "allowedToSetup": ["totp"]},
            "emails": {},
            "phoneNumbers": {},
        }


def test_mfa_info_without_a_session_is_401(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with stack.client() as client:
        response = api(client, "PUT", "/mfa/info", rid="multifactorauth")
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}


def _stack_without_requirement(start_mfa: StartMFA) -> MFAStack:
    from bastion.recipe import multifactorauth

    return start_mfa(mfa=multifactorauth.init(first_factors=["emailpassword"]))


def test_no_required_factor_means_first_factor_is_enough(start_mfa: StartMFA) -> None:
    stack = _stack_without_requirement(start_mfa)
    with stack.client() as client:
        client.post("/first-factor")
        assert mfa_claim(client)["v"] is True
        assert client.get("/protected").status_code == 200
        info = api(client, "PUT", "/mfa/info", rid="multifactorauth").json()
        assert info["factors"] == {"next": [], "alreadySetup": [], "allowedToSetup": ["totp"]}
        # Optional TOTP: set up freely, then it shows as set up.
        enroll(stack, client)
        info = api(client, "PUT", "/mfa/info", rid="multifactorauth").json()
        assert info["factors"]["alreadySetup"] == ["totp"]
