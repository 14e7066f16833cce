"""The user as the frontend SDKs see it (spec section 7, "User JSON")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bastion.storage.base import LoginMethodRecord, UserRecord

__all__ = ["LoginMethod", "User"]


@dataclass(frozen=True, slots=True)
class LoginMethod:
    """One way the user signs in."""

    recipe_id: str
    recipe_user_id: str
    tenant_ids: tuple[str, ...]
    time_joined: int
    """Milliseconds since the epoch."""
    verified: bool
    """Whether ``email`` is verified."""
    email: str | None = None
    phone_number: str | None = None
    """E.164, for passwordless logins by SMS."""

    @classmethod
    def from_record(cls, record: LoginMethodRecord) -> LoginMethod:
        return cls(
            recipe_id=record.recipe_id,
            recipe_user_id=record.recipe_user_id,
            tenant_ids=(record.tenant_id,),
            time_joined=record.time_joined_ms,
            verified=record.verified,
            email=record.email,
            phone_number=record.phone_number,
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "recipeId": self.recipe_id,
            "recipeUserId": self.recipe_user_id,
            "tenantIds": list(self.tenant_ids),
            "timeJoined": self.time_joined,
            "verified": self.verified,
        }
        if self.email is not None:
            body["email"] = self.email
        if self.phone_number is not None:
            body["phoneNumber"] = self.phone_number
        return body


@dataclass(frozen=True, slots=True)
class User:
    """A user: an id (a UUID string), when it joined, and its login methods."""

    id: str
    time_joined: int
    """Milliseconds since the epoch."""
    login_methods: tuple[LoginMethod, ...]
    is_primary_user: bool = False

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(
            id=record.id,
            time_joined=record.time_joined_ms,
            login_methods=tuple(LoginMethod.from_record(m) for m in record.login_methods),
        )

    @property
    def emails(self) -> list[str]:
        """Distinct emails of the login methods, oldest first."""
        found: list[str] = []
        for method in self.login_methods:
            if method.email is not None and method.email not in found:
                found.append(method.email)
        return found

    @property
    def phone_numbers(self) -> list[str]:
        """Distinct phone numbers of the login methods, oldest first."""
        found: list[str] = []
        for method in self.login_methods:
            if method.phone_number is not None and method.phone_number not in found:
                found.append(method.phone_number)
        return found

    @property
    def tenant_ids(self) -> list[str]:
        found: list[str] = []
        for method in self.login_methods:
            found.extend(t for t in method.tenant_ids if t not in found)
        return found

    def to_json(self) -> dict[str, Any]:
        """The user JSON of sign-in, sign-up and the user APIs."""
        return {
            "id": self.id,
            "isPrimaryUser": self.is_primary_user,
            "tenantIds": self.tenant_ids,
            "emails": self.emails,
            "phoneNumbers": self.phone_numbers,
            "thirdParty": [],
            "webauthn": {"credentialIds": []},
            "loginMethods": [m.to_json() for m in self.login_methods],
            "timeJoined": self.time_joined,
        }
