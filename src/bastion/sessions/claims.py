"""Session claims and their validators (spec section 8).

A claim with key ``K`` lives at the top level of the access-token payload as
``K: {"v": value, "t": fetched-at ms}``. Validators return a result with a ``reason`` whose shape
is part of the wire protocol: the 403 body lists them.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from bastion.bridge import maybe_await
from bastion.runtime import current_clock

__all__ = [
    "BooleanClaim",
    "ClaimValidationError",
    "ClaimValidationResult",
    "JSONObject",
    "PrimitiveArrayClaim",
    "PrimitiveClaim",
    "SessionClaim",
    "SessionClaimValidator",
]

T = TypeVar("T")
JSONObject = dict[str, Any]
FetchValue = Callable[..., Awaitable[T | None] | T | None]


class ClaimValidationResult:
    """The outcome of one validator; ``reason`` is ``{}`` when valid."""

    def __init__(self, is_valid: bool, reason: dict[str, Any] | None = None) -> None:
        self.is_valid = is_valid
        self.reason = {} if is_valid else reason

    def __repr__(self) -> str:
        return f"ClaimValidationResult(is_valid={self.is_valid}, reason={self.reason!r})"


class ClaimValidationError:
    """A failed validator as it appears in the 403 body."""

    def __init__(
        self, id_: str, reason: dict[str, Any] | None, *, challenge: str | None = None
    ) -> None:
        self.id = id_
        self.reason = reason
        self.challenge = challenge
        """A ``WWW-Authenticate`` value to send with the 403 (RFC 9470 step-up), if any."""

    def to_json(self) -> dict[str, Any]:
        if self.reason is None:
            return {"id": self.id}
        return {"id": self.id, "reason": self.reason}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimValidationError) and (self.id, self.reason) == (
            other.id,
            other.reason,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ClaimValidationError({self.id!r}, {self.reason!r})"


class SessionClaimValidator(ABC):
    """Checks a session's access-token payload; may ask for the claim to be fetched again."""

    def __init__(self, id_: str, claim: SessionClaim[Any] | None = None) -> None:
        self.id = id_
        self.claim = claim

    def should_refetch(self, payload: JSONObject, user_context: dict[str, Any]) -> bool:
        """True when ``claim`` should be fetched before validating (a plain bool, not awaited)."""
        return False

    def challenge(self, reason: dict[str, Any] | None) -> str | None:
        """A ``WWW-Authenticate`` challenge for this failure (step-up validators), or None."""
        return None

    @abstractmethod
    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        """Validate ``payload``."""


def _accepts_full_signature(fetch_value: Callable[..., Any]) -> bool:
    """True for ``fetch_value(user_id, recipe_user_id, tenant_id, current_payload, user_context)``.

    The seed's form is ``fetch_value(user_id, user_context)``; newer SDKs pass five arguments.
    """
    try:
        params = inspect.signature(fetch_value).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 5 or any(p.kind is p.VAR_POSITIONAL for p in params)


class SessionClaim(ABC, Generic[T]):
    """A value kept in the access token under ``key``, computed by ``fetch_value``."""

    def __init__(self, key: str, fetch_value: FetchValue[T]) -> None:
        if not key:
            raise ValueError("a claim needs a non-empty key")
        self.key = key
        self.fetch_value = fetch_value
        self._full_fetch_signature = _accepts_full_signature(fetch_value)

    @abstractmethod
    def add_to_payload_(
        self, payload: JSONObject, value: T, user_context: dict[str, Any] | None = None
    ) -> JSONObject:
        """Write ``value`` into ``payload`` in place and return it."""

    def remove_from_payload_by_merge_(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> JSONObject:
        """Mark the claim for deletion in a merge (a ``None`` value deletes the key)."""
        payload[self.key] = None
        return payload

    def remove_from_payload(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> JSONObject:
        payload.pop(self.key, None)
        return payload

    @abstractmethod
    def get_value_from_payload(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> T | None:
        """The claim's value in ``payload``, or None."""

    async def fetch(
        self,
        user_id: str,
        user_context: dict[str, Any],
        *,
        recipe_user_id: str | None = None,
        tenant_id: str = "public",
        current_payload: JSONObject | None = None,
    ) -> T | None:
        """Call ``fetch_value`` in whichever form it was written."""
        if self._full_fetch_signature:
            result = self.fetch_value(
                user_id, recipe_user_id or user_id, tenant_id, current_payload or {}, user_context
            )
        else:
            result = self.fetch_value(user_id, user_context)
        return await maybe_await(result)

    async def build(
        self,
        user_id: str,
        user_context: dict[str, Any] | None = None,
        *,
        recipe_user_id: str | None = None,
        tenant_id: str = "public",
        current_payload: JSONObject | None = None,
    ) -> JSONObject:
        """Fetch the value and return a payload fragment holding it (``{}`` if None)."""
        value = await self.fetch(
            user_id,
            user_context if user_context is not None else {},
            recipe_user_id=recipe_user_id,
            tenant_id=tenant_id,
            current_payload=current_payload,
        )
        if value is None:
            return {}
        return self.add_to_payload_({}, value, user_context)


def _now_ms() -> int:
    return current_clock().now_ms()


class _TimedValueClaim(SessionClaim[T]):
    """Stores ``{"v": value, "t": ms}``."""

    def __init__(
        self, key: str, fetch_value: FetchValue[T], default_max_age_in_sec: int | None = None
    ) -> None:
        super().__init__(key, fetch_value)
        self.default_max_age_in_sec = default_max_age_in_sec

    def add_to_payload_(
        self, payload: JSONObject, value: T, user_context: dict[str, Any] | None = None
    ) -> JSONObject:
        payload[self.key] = {"v": value, "t": _now_ms()}
        return payload

    def get_value_from_payload(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> T | None:
        entry = payload.get(self.key)
        if isinstance(entry, dict):
            value: T | None = entry.get("v")
            return value
        return None

    def get_last_refetch_time(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> int | None:
        entry = payload.get(self.key)
        if isinstance(entry, dict) and isinstance(entry.get("t"), int | float):
            return int(entry["t"])
        return None


class _ValueCheck(SessionClaimValidator, Generic[T]):
    """Shared shape of every primitive validator: absent -> expired -> wrong value."""

    def __init__(
        self,
        claim: _TimedValueClaim[T],
        expected: Any,
        expected_key: str,
        max_age_in_sec: int | None,
        id_: str | None,
        check: Callable[[T], bool],
        absent_key: str | None = None,
    ) -> None:
        super().__init__(id_ or claim.key, claim)
        self._claim = claim
        self._expected = expected
        self._expected_key = expected_key
        self._absent_key = absent_key or expected_key
        self._max_age = max_age_in_sec or claim.default_max_age_in_sec
        self._check = check

    def should_refetch(self, payload: JSONObject, user_context: dict[str, Any]) -> bool:
        if self._claim.get_value_from_payload(payload) is None:
            return True
        if self._max_age is None:
            return False
        fetched_at = self._claim.get_last_refetch_time(payload)
        return fetched_at is None or fetched_at < _now_ms() - self._max_age * 1000

    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any]
    ) -> ClaimValidationResult:
        value = self._claim.get_value_from_payload(payload)
        if value is None:
            return ClaimValidationResult(
                False,
                {
                    "message": "value does not exist",
                    self._absent_key: self._expected,
                    "actualValue": None,
                },
            )
        if self._max_age is not None:
            fetched_at = self._claim.get_last_refetch_time(payload) or 0
            age_in_seconds = (_now_ms() - fetched_at) / 1000
            if age_in_seconds > self._max_age:
                return ClaimValidationResult(
                    False,
                    {
                        "message": "expired",
                        "ageInSeconds": age_in_seconds,
                        "maxAgeInSeconds": self._max_age,
                    },
                )
        try:
            matches = self._check(value)
        except TypeError:  # e.g. a scalar where a list claim was expected
            matches = False
        if not matches:
            return ClaimValidationResult(
                False,
                {
                    "message": "wrong value",
                    self._expected_key: self._expected,
                    "actualValue": value,
                },
            )
        return ClaimValidationResult(True)


class PrimitiveClaimValidators(Generic[T]):
    def __init__(self, claim: PrimitiveClaim[T]) -> None:
        self._claim = claim

    def has_value(
        self, val: T, max_age_in_sec: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """Valid when the claim equals ``val`` (and is not older than ``max_age_in_sec``)."""
        return _ValueCheck(
            self._claim, val, "expectedValue", max_age_in_sec, id_, lambda v: bool(v == val)
        )


class PrimitiveClaim(_TimedValueClaim[T]):
    """A claim holding one JSON value."""

    def __init__(
        self, key: str, fetch_value: FetchValue[T], default_max_age_in_sec: int | None = None
    ) -> None:
        super().__init__(key, fetch_value, default_max_age_in_sec)
        self.validators = PrimitiveClaimValidators(self)


class BooleanClaimValidators(PrimitiveClaimValidators[bool]):
    def is_true(self, max_age: int | None = None, id_: str | None = None) -> SessionClaimValidator:
        return self.has_value(True, max_age, id_)

    def is_false(self, max_age: int | None = None, id_: str | None = None) -> SessionClaimValidator:
        return self.has_value(False, max_age, id_)


class BooleanClaim(PrimitiveClaim[bool]):
    """A claim holding ``true`` or ``false``."""

    def __init__(
        self,
        key: str,
        fetch_value: FetchValue[bool],
        default_max_age_in_sec: int | None = None,
    ) -> None:
        super().__init__(key, fetch_value, default_max_age_in_sec)
        self.validators: BooleanClaimValidators = BooleanClaimValidators(self)


class PrimitiveArrayClaimValidators(Generic[T]):
    def __init__(self, claim: PrimitiveArrayClaim[T]) -> None:
        self._claim = claim

    def _make(
        self,
        expected: Any,
        key: str,
        max_age: int | None,
        id_: str | None,
        check: Callable[[list[T]], bool],
    ) -> SessionClaimValidator:
        return _ValueCheck(self._claim, expected, key, max_age, id_, check)

    def includes(
        self, val: T, max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        return self._make(val, "expectedToInclude", max_age_in_seconds, id_, lambda v: val in v)

    def excludes(
        self, val: T, max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        return self._make(
            val, "expectedToNotInclude", max_age_in_seconds, id_, lambda v: val not in v
        )

    def includes_all(
        self, val: list[T], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        return self._make(
            val, "expectedToInclude", max_age_in_seconds, id_, lambda v: all(x in v for x in val)
        )

    def includes_any(
        self, val: list[T], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        return self._make(
            val,
            "expectedToIncludeAtLeastOneOf",
            max_age_in_seconds,
            id_,
            lambda v: any(x in v for x in val),
        )

    def excludes_all(
        self, val: list[T], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        return self._make(
            val,
            "expectedToNotInclude",
            max_age_in_seconds,
            id_,
            lambda v: not any(x in v for x in val),
        )


class PrimitiveArrayClaim(_TimedValueClaim[list[T]]):
    """A claim holding a list of JSON values."""

    def __init__(
        self,
        key: str,
        fetch_value: FetchValue[list[T]],
        default_max_age_in_sec: int | None = None,
    ) -> None:
        super().__init__(key, fetch_value, default_max_age_in_sec)
        self.validators = PrimitiveArrayClaimValidators(self)
