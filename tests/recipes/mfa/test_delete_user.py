"""Deleting a user removes its MFA data too: devices, recovery codes, counters, requirements."""

from __future__ import annotations

from typing import Any

from bastion import syncio as users
from bastion.recipe.multifactorauth import syncio as mfa_syncio
from tests.databases import rows
from tests.recipes.mfa.conftest import StartMFA, api, enroll


def rows_for(store: Any, user_id: str) -> dict[str, int]:
    counts = {
        table: rows(store, f"SELECT count(*) FROM {table} WHERE user_id = ?", user_id)[0][0]
        for table in ("totp_devices", "recovery_codes", "mfa_attempts")
    }
    counts["mfa_required_factors"] = rows(
        store,
        "SELECT count(*) FROM mfa_required_factors WHERE scope = 'user' AND subject = ?",
        user_id,
    )[0][0]
    return counts


def test_delete_user_removes_mfa_rows(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    db = stack.app.store
    with stack.client() as client:
        assert client.post("/first-factor?user=user-9").status_code == 200
        secret = enroll(stack, client)
        made = api(client, "POST", "/mfa/recovery-codes", {}, "multifactorauth")
        assert made.json()["status"] == "OK", made.text
        stack.clock.advance(30)
        wrong = api(client, "POST", "/totp/verify", {"totp": stack.wrong_code(secret)})
        assert wrong.json()["status"] == "INVALID_TOTP_ERROR"
    mfa_syncio.add_to_required_secondary_factors_for_user("user-9", "otp-email")
    assert all(rows_for(db, "user-9").values())

    users.delete_user("user-9")
    assert rows_for(db, "user-9") == {
        "totp_devices": 0,
        "recovery_codes": 0,
        "mfa_attempts": 0,
        "mfa_required_factors": 0,
    }
