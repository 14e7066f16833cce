"""User operations on one app's storage (the public faces are :mod:`bastion.asyncio`/``syncio``)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.errors import BadInputError, ConfigError
from bastion.users.emails import email_key
from bastion.users.model import User

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = [
    "UsersPage",
    "delete_user",
    "get_user",
    "get_user_count",
    "list_users",
    "list_users_by_email",
]

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class UsersPage:
    """One page of users; pass ``next_pagination_token`` to get the next (None at the end)."""

    users: list[User]
    next_pagination_token: str | None


async def get_user(app: Bastion, user_id: str) -> User | None:
    """The user with this id (or recipe user id), or None."""
    record = await app.store.get_user(user_id)
    return User.from_record(record) if record else None


async def list_users_by_email(app: Bastion, email: str, *, tenant_id: str = "public") -> list[User]:
    """Users with a login method for ``email`` (compared case-insensitively), oldest first."""
    records = await app.store.list_users_by_email(email_key(email), tenant_id=tenant_id)
    return [User.from_record(r) for r in records]


async def get_user_count(app: Bastion, *, tenant_id: str = "public") -> int:
    return await app.store.count_users(tenant_id=tenant_id)


def _encode_token(time_joined: int, user_id: str) -> str:
    raw = json.dumps([time_joined, user_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        time_joined, user_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadInputError("invalid pagination token") from exc
    if not isinstance(time_joined, int) or not isinstance(user_id, str):
        raise BadInputError("invalid pagination token")
    return time_joined, user_id


async def list_users(
    app: Bastion,
    *,
    newest_first: bool,
    tenant_id: str = "public",
    limit: int | None = None,
    pagination_token: str | None = None,
) -> UsersPage:
    """A page of users ordered by when they joined.

    Raises:
        ConfigError: ``limit`` is not between 1 and 500.
        BadInputError: ``pagination_token`` was not produced by this function.
    """
    size = 100 if limit is None else limit
    if not 1 <= size <= MAX_PAGE:
        raise ConfigError(f"limit must be between 1 and {MAX_PAGE}")
    after = _decode_token(pagination_token) if pagination_token else None
    records = await app.store.list_users(
        tenant_id=tenant_id, newest_first=newest_first, limit=size + 1, after=after
    )
    users = [User.from_record(r) for r in records[:size]]
    token = None
    if len(records) > size:
        last = users[-1]
        token = _encode_token(last.time_joined, last.id)
    return UsersPage(users, token)


async def delete_user(app: Bastion, user_id: str, user_context: dict[str, Any]) -> bool:
    """Delete the user and everything bastion keeps about it; False if it did not exist.

    Recipes that keep their own per-user data (TOTP devices, recovery codes, ...) implement
    ``async def delete_user_data(user_id, user_context)``; each is called first. Then the user,
    its login methods, credentials, verified emails, pending tokens and sessions go in one
    transaction.
    """
    for recipe in list(app.recipes.values()):
        hook = getattr(recipe, "delete_user_data", None)
        if hook is not None:
            await hook(user_id, user_context)
    return await app.store.delete_user(user_id)
