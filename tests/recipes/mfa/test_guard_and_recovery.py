"""The setup guard, required factors, recovery codes, step-up and the seed's own claim."""

from __future__ import annotations

from typing import Any

from bastion.recipe import multifactorauth
from bastion.recipe.multifactorauth import syncio as mfa_syncio
from tests.client import SessionClient
from tests.databases import rows
from tests.recipes.mfa.conftest import MFAStack, StartMFA, api, enroll, mfa_claim

NOT_NEXT = "Not allowed to setup factor that is not in the next set of unsatisfied factors"
NOT_SATISFIED = "Completed factors in the session does not satisfy the MFA requirements for auth"
LAST_FACTOR = (
    "This is your last second factor and your account must have one: set up another before "
    "removing it."
)


def _claim_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    errors = response.json()["claimValidationErrors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    return error


def _signed_in(stack: MFAStack, user: str = "user-1") -> SessionClient:
    client = stack.client()
    assert client.post(f"/first-factor?user={user}").status_code == 200
    return client


def test_a_pending_challenge_cannot_change_factors(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with _signed_in(stack) as first:
        secret = enroll(stack, first)
        devices_before = api(first, "GET", "/totp/device/list").json()
    with _signed_in(stack) as pending:  # first factor only: TOTP is pending
        refusal = {"id": "st-mfa", "reason": {"message": NOT_SATISFIED}}
        assert _claim_error(api(pending, "POST", "/totp/device", {"deviceName": "new"})) == refusal
        verify = api(
            pending, "POST", "/totp/device/verify", {"deviceName": "TOTP Device 0", "totp": "0"}
        )
        assert _claim_error(verify) == refusal
        removal = api(pending, "POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"})
        assert _claim_error(removal) == {
            "id": "st-mfa",
            "reason": {"message": "MFA requirement for auth is not satisfied"},
        }
        codes = api(pending, "POST", "/mfa/recovery-codes", {}, "multifactorauth")
        assert codes.status_code == 403
        first_error = codes.json()["claimValidationErrors"][0]
        assert first_error["reason"] == {"message": "MFA requirement for auth is not satisfied"}
        assert api(pending, "GET", "/totp/device/list").json() == devices_before
        # Completing the challenge unlocks them.
        stack.clock.advance(30)
        assert (
            api(pending, "POST", "/totp/verify", {"totp": stack.code(secret)}).json()["status"]
            == "OK"
        )
        # Now the session may change factors, but TOTP is required of every user: its last
        # device stays (GENERAL_ERROR, which the SDK shows as a message).
        last = api(pending, "POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"})
        assert (last.status_code, last.json()) == (
            200,
            {"status": "GENERAL_ERROR", "message": LAST_FACTOR},
        )
        assert api(pending, "GET", "/totp/device/list").json() == devices_before
        created = api(pending, "POST", "/totp/device", {"deviceName": "spare"}).json()
        assert created["status"] == "OK"
        assert api(pending, "POST", "/totp/device/remove", {"deviceName": "spare"}).json() == {
            "status": "OK",
            "didDeviceExist": True,
        }


def test_only_the_next_factor_may_be_set_up(start_mfa: StartMFA) -> None:
    mfa = multifactorauth.init(required_secondary_factors=["otp-email"])  # nobody offers it
    stack = start_mfa(mfa=mfa)
    with _signed_in(stack) as client:
        refusal = _claim_error(api(client, "POST", "/totp/device", {}))
        assert refusal["reason"] == {"message": NOT_NEXT}
        info = api(client, "PUT", "/mfa/info", rid="multifactorauth")
        assert info.status_code == 200
        assert info.json()["status"] == "GENERAL_ERROR"


def test_device_names(start_mfa: StartMFA) -> None:
    stack = start_mfa(mfa=multifactorauth.init())
    with _signed_in(stack) as client:
        first = api(client, "POST", "/totp/device", {"deviceName": "phone"}).json()
        again = api(client, "POST", "/totp/device", {"deviceName": "phone"}).json()
        assert (
            again["status"] == "OK" and again["secret"] != first["secret"]
        )  # replaced: unverified
        api(
            client,
            "POST",
            "/totp/device/verify",
            {"deviceName": "phone", "totp": stack.code(again["secret"])},
        )
        exists = api(client, "POST", "/totp/device", {"deviceName": "phone"})
        assert (exists.status_code, exists.json()) == (
            200,
            {"status": "DEVICE_ALREADY_EXISTS_ERROR"},
        )
        assert api(client, "POST", "/totp/device", {"deviceName": 7}).status_code == 400
        assert api(client, "POST", "/totp/device/remove", {}).status_code == 400
        assert api(client, "POST", "/totp/device/remove", {"deviceName": " "}).status_code == 400
        # An already verified device answers OK without a code, and completes nothing.
        before = mfa_claim(client)["c"]["totp"]
        stack.clock.advance(60)
        already = api(client, "POST", "/totp/device/verify", {"deviceName": "phone", "totp": "x"})
        assert already.json() == {"status": "OK", "wasAlreadyVerified": True}
        assert mfa_claim(client)["c"]["totp"] == before


def test_required_factors_per_user_and_per_app(start_mfa: StartMFA) -> None:
    stack = start_mfa(mfa=multifactorauth.init(first_factors=["emailpassword"]))
    mfa_syncio.add_to_required_secondary_factors_for_user("user-1", "totp")
    assert mfa_syncio.get_required_secondary_factors_for_user("user-1") == ["totp"]
    with _signed_in(stack, "user-1") as one, _signed_in(stack, "user-2") as two:
        assert (mfa_claim(one)["v"], mfa_claim(two)["v"]) == (False, True)
    mfa_syncio.add_to_required_secondary_factors_for_app("totp")
    with _signed_in(stack, "user-2") as two:
        assert mfa_claim(two)["v"] is False
    mfa_syncio.remove_from_required_secondary_factors_for_app("totp")
    mfa_syncio.remove_from_required_secondary_factors_for_user("user-1", "totp")
    assert mfa_syncio.get_required_secondary_factors_for_app() == []
    with _signed_in(stack, "user-1") as one:
        assert mfa_claim(one)["v"] is True


def test_a_first_factor_that_is_not_allowed_is_401(start_mfa: StartMFA) -> None:
    stack = start_mfa(mfa=multifactorauth.init(first_factors=["thirdparty"]))
    with stack.client() as client:
        response = client.post("/first-factor")
        assert response.status_code == 401
        assert response.headers["front-token"] == "remove"


def test_recovery_codes(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with _signed_in(stack) as client:
        secret = enroll(stack, client)
        status = api(client, "GET", "/mfa/recovery-codes", rid="multifactorauth").json()
        assert status == {"status": "OK", "remaining": 0, "total": 0}
        made = api(client, "POST", "/mfa/recovery-codes", {}, "multifactorauth").json()
        codes = made["recoveryCodes"]
        assert len(codes) == len(set(codes)) == 10
        assert all(len(c) == 14 and c[4] == c[9] == "-" for c in codes)
        stored = " ".join(
            r[0] for r in rows(stack.app.store, "SELECT code_hash FROM recovery_codes")
        )
        assert stored.count("$argon2id$") == 10
        assert not any(c.replace("-", "")[2:] in stored for c in codes)  # no plaintext secret

        # Regenerating needs a second factor within 5 minutes (one of the user's: TOTP).
        stack.clock.advance(301)
        stale = _claim_error(api(client, "POST", "/mfa/recovery-codes", {}, "multifactorauth"))
        assert stale == {
            "id": "st-mfa",
            "reason": {
                "message": "factor not completed recently enough",
                "oneOf": ["totp"],
                "ageInSeconds": 301,
                "maxAgeInSeconds": 300,
            },
        }
        api(client, "POST", "/totp/verify", {"totp": stack.code(secret)})
        fresh = api(client, "POST", "/mfa/recovery-codes", {}, "multifactorauth").json()[
            "recoveryCodes"
        ]

    with _signed_in(stack) as other:
        assert other.get("/protected").status_code == 403
        old = api(
            other,
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": codes[0]},
            "multifactorauth",
        )
        assert old.json()["status"] == "INVALID_RECOVERY_CODE_ERROR"  # replaced by the new set
        typed = fresh[0].lower().replace("-", " ")  # people type them any way
        used = api(
            other, "POST", "/mfa/recovery-codes/verify", {"recoveryCode": typed}, "multifactorauth"
        )
        assert used.json() == {"status": "OK", "remainingCodes": 9}
        assert "front-token" in used.headers
        assert other.get("/protected").status_code == 200  # it stands in for TOTP
        bad = api(
            other, "POST", "/mfa/recovery-codes/verify", {"recoveryCode": 5}, "multifactorauth"
        )
        assert bad.status_code == 400
    with _signed_in(stack) as third:
        again = api(
            third,
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": fresh[0]},
            "multifactorauth",
        )
        assert again.json()["status"] == "INVALID_RECOVERY_CODE_ERROR"  # single use
        assert third.get("/protected").status_code == 403


def test_step_up_needs_a_recent_totp(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with _signed_in(stack) as client:
        enroll(stack, client)
        assert client.post("/sensitive").status_code == 200
        stack.clock.advance(301)
        assert client.get("/protected").status_code == 200
        stale = client.post("/sensitive")
        # RFC 9470: the 403 also carries the step-up challenge.
        assert stale.headers["www-authenticate"] == (
            'Bearer error="insufficient_user_authentication", '
            'error_description="A more recent second factor is required", max_age=300'
        )
        assert "www-authenticate" not in client.get("/protected").headers
        assert _claim_error(stale) == {
            "id": "st-mfa",
            "reason": {
                "message": "factor not completed recently enough",
                "factorId": "totp",
                "ageInSeconds": 301,
                "maxAgeInSeconds": 300,
            },
        }


def test_seed_claim_works_side_by_side(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    with _signed_in(stack) as client:
        denied = client.post("/like_comment")
        assert [e["id"] for e in denied.json()["claimValidationErrors"]] == [
            "st-mfa",
            "2fa-completed",
        ]
        enroll(stack, client)
        assert _claim_error(client.post("/like_comment"))["id"] == "2fa-completed"
        assert client.post("/seed-2fa").status_code == 200
        assert client.post("/like_comment").status_code == 200
    # Without required factors, the seed's claim alone decides, as before.
    plain = start_mfa(mfa=multifactorauth.init())
    with _signed_in(plain) as client:
        assert _claim_error(client.post("/like_comment"))["id"] == "2fa-completed"
        client.post("/seed-2fa")
        assert client.post("/like_comment").status_code == 200
