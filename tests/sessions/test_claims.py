"""Every claim validator: pass, and the exact failure reasons of spec section 8.3."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.recipe.session.claims import (
    BooleanClaim,
    PrimitiveArrayClaim,
    PrimitiveClaim,
    SessionClaim,
)
from bastion.recipe.session.interfaces import SessionClaimValidator

Flag = BooleanClaim(key="flag", fetch_value=lambda _, __: True)
Level = PrimitiveClaim(key="level", fetch_value=lambda _, __: 3)
Roles = PrimitiveArrayClaim(key="roles", fetch_value=lambda _, __: ["a", "b"])


@pytest.fixture(autouse=True)
def _app(init_app: Any) -> None:
    init_app()


def payload_with(claim: SessionClaim[Any], value: Any) -> dict[str, Any]:
    return claim.add_to_payload_({}, value)


def check(validator: SessionClaimValidator, payload: dict[str, Any]) -> tuple[bool, Any]:
    result = run_sync(validator.validate(payload, {}))
    return result.is_valid, result.reason


def test_claim_payload_shape(clock: ManualClock) -> None:
    assert payload_with(Flag, False) == {"flag": {"v": False, "t": clock.now_ms()}}
    assert Flag.get_value_from_payload({"flag": {"v": True, "t": 1}}) is True
    assert Flag.get_value_from_payload({}) is None
    assert Flag.remove_from_payload_by_merge_({"flag": 1}) == {"flag": None}
    assert Flag.remove_from_payload({"flag": 1, "x": 2}) == {"x": 2}
    assert Level.get_last_refetch_time({"level": {"v": 1, "t": 42}}) == 42


def test_build_uses_fetch_value_in_both_signatures(clock: ManualClock) -> None:
    two = BooleanClaim("two", fetch_value=lambda user_id, ctx: user_id == "u")
    seen: list[Any] = []

    async def five(
        user_id: str, recipe_user_id: str, tenant_id: str, payload: Any, ctx: Any
    ) -> str:
        seen.append((user_id, recipe_user_id, tenant_id))
        return "x"

    full = PrimitiveClaim("five", fetch_value=five)
    assert run_sync(two.build("u")) == {"two": {"v": True, "t": clock.now_ms()}}
    assert run_sync(full.build("u", tenant_id="t1")) == {"five": {"v": "x", "t": clock.now_ms()}}
    assert seen == [("u", "u", "t1")]
    none = PrimitiveClaim("none", fetch_value=lambda _, __: None)
    assert run_sync(none.build("u")) == {}


@pytest.mark.parametrize(
    ("validator", "value", "expected_reason"),
    [
        (Flag.validators.has_value(True), True, None),
        (
            Flag.validators.has_value(True),
            False,
            {"message": "wrong value", "expectedValue": True, "actualValue": False},
        ),
        (Flag.validators.is_true(), True, None),
        (
            Flag.validators.is_true(),
            False,
            {"message": "wrong value", "expectedValue": True, "actualValue": False},
        ),
        (Flag.validators.is_false(), False, None),
        (
            Flag.validators.is_false(),
            True,
            {"message": "wrong value", "expectedValue": False, "actualValue": True},
        ),
        (Level.validators.has_value(3), 3, None),
        (
            Level.validators.has_value(3),
            4,
            {"message": "wrong value", "expectedValue": 3, "actualValue": 4},
        ),
        (Roles.validators.includes("a"), ["a"], None),
        (
            Roles.validators.includes("c"),
            ["a", "b"],
            {"message": "wrong value", "expectedToInclude": "c", "actualValue": ["a", "b"]},
        ),
        (Roles.validators.excludes("c"), ["a"], None),
        (
            Roles.validators.excludes("a"),
            ["a", "b"],
            {"message": "wrong value", "expectedToNotInclude": "a", "actualValue": ["a", "b"]},
        ),
        (Roles.validators.includes_all(["a", "b"]), ["a", "b", "c"], None),
        (
            Roles.validators.includes_all(["a", "z"]),
            ["a", "b"],
            {"message": "wrong value", "expectedToInclude": ["a", "z"], "actualValue": ["a", "b"]},
        ),
        (Roles.validators.includes_any(["z", "b"]), ["a", "b"], None),
        (
            Roles.validators.includes_any(["y", "z"]),
            ["a", "b"],
            {
                "message": "wrong value",
                "expectedToIncludeAtLeastOneOf": ["y", "z"],
                "actualValue": ["a", "b"],
            },
        ),
        (Roles.validators.excludes_all(["y", "z"]), ["a", "b"], None),
        (
            Roles.validators.excludes_all(["y", "b"]),
            ["a", "b"],
            {
                "message": "wrong value",
                "expectedToNotInclude": ["y", "b"],
                "actualValue": ["a", "b"],
            },
        ),
    ],
)
def test_validator_outcomes(
    validator: SessionClaimValidator, value: Any, expected_reason: Any
) -> None:
    claim = validator.claim
    assert claim is not None
    valid, reason = check(validator, payload_with(claim, value))
    assert valid is (expected_reason is None)
    assert reason == (expected_reason if expected_reason is not None else {})


@pytest.mark.parametrize(
    ("validator", "expected_key", "expected"),
    [
        (Flag.validators.has_value(True), "expectedValue", True),
        (Level.validators.has_value(3), "expectedValue", 3),
        (Roles.validators.includes("a"), "expectedToInclude", "a"),
        (Roles.validators.excludes("a"), "expectedToNotInclude", "a"),
        (Roles.validators.includes_all(["a"]), "expectedToInclude", ["a"]),
        (Roles.validators.includes_any(["a"]), "expectedToIncludeAtLeastOneOf", ["a"]),
        (Roles.validators.excludes_all(["a"]), "expectedToNotInclude", ["a"]),
    ],
)
def test_absent_value_reason_and_refetch(
    validator: SessionClaimValidator, expected_key: str, expected: Any
) -> None:
    valid, reason = check(validator, {"other": 1})
    assert not valid
    assert reason == {
        "message": "value does not exist",
        expected_key: expected,
        "actualValue": None,
    }
    assert list(reason) == ["message", expected_key, "actualValue"]
    assert validator.should_refetch({}, {}) is True


def test_max_age_expiry_and_refetch(clock: ManualClock) -> None:
    validator = Flag.validators.has_value(True, max_age_in_sec=60)
    payload = payload_with(Flag, True)
    assert check(validator, payload) == (True, {})
    assert validator.should_refetch(payload, {}) is False
    clock.advance(61)
    assert validator.should_refetch(payload, {}) is True
    valid, reason = check(validator, payload)
    assert not valid
    assert reason == {"message": "expired", "ageInSeconds": 61.0, "maxAgeInSeconds": 60}


def test_default_max_age_and_zero_means_default(clock: ManualClock) -> None:
    claim = BooleanClaim("fresh", fetch_value=lambda _, __: True, default_max_age_in_sec=10)
    payload = payload_with(claim, True)
    clock.advance(11)
    for validator in (claim.validators.is_true(), claim.validators.has_value(True, 0)):
        assert check(validator, payload)[1]["message"] == "expired"
    array = PrimitiveArrayClaim("arr", fetch_value=lambda _, __: [1], default_max_age_in_sec=5)
    array_payload = payload_with(array, [1])
    clock.advance(6)
    assert check(array.validators.includes(1), array_payload)[1]["message"] == "expired"


def test_custom_validator_id() -> None:
    validator = Roles.validators.includes("a", id_="must-have-a")
    assert validator.id == "must-have-a"
    assert Roles.validators.includes("a").id == "roles"


def test_wrongly_typed_claim_value_is_a_wrong_value_not_a_crash() -> None:
    valid, reason = check(Roles.validators.includes("a"), {"roles": {"v": 5, "t": 1}})
    assert not valid
    assert reason["message"] == "wrong value"
