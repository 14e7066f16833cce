"""User management for async code. :mod:`bastion.syncio` has the same functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bastion.runtime import current_app
from bastion.users import service
from bastion.users.model import User
from bastion.users.service import UsersPage

__all__ = [
    "AccountInfo",
    "UsersPage",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "get_user_count",
    "get_users_newest_first",
    "get_users_oldest_first",
    "list_users_by_account_info",
]


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What to look a user up by (only ``email`` is supported)."""

    email: str | None = None


async def get_user(user_id: str, user_context: dict[str, Any] | None = None) -> User | None:
    """The user with this id, or None."""
    return await service.get_user(current_app(), user_id)


async def get_user_by_email(
    email: str, tenant_id: str = "public", user_context: dict[str, Any] | None = None
) -> User | None:
    """The user who signs in with ``email`` (case-insensitive), or None."""
    users = await service.list_users_by_email(current_app(), email, tenant_id=tenant_id)
    return users[0] if users else None


async def list_users_by_account_info(
    tenant_id: str,
    account_info: AccountInfo,
    do_union_of_account_info: bool = False,
    user_context: dict[str, Any] | None = None,
) -> list[User]:
    """Users matching ``account_info`` in ``tenant_id``, oldest first."""
    if account_info.email is None:
        return []
    return await service.list_users_by_email(current_app(), account_info.email, tenant_id=tenant_id)


async def get_users_oldest_first(
    tenant_id: str = "public",
    limit: int | None = None,
    pagination_token: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> UsersPage:
    """A page of users, oldest first (``limit`` 1-500, default 100)."""
    return await service.list_users(
        current_app(),
        newest_first=False,
        tenant_id=tenant_id,
        limit=limit,
        pagination_token=pagination_token,
    )


async def get_users_newest_first(
    tenant_id: str = "public",
    limit: int | None = None,
    pagination_token: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> UsersPage:
    """A page of users, newest first (``limit`` 1-500, default 100)."""
    return await service.list_users(
        current_app(),
        newest_first=True,
        tenant_id=tenant_id,
        limit=limit,
        pagination_token=pagination_token,
    )


async def get_user_count(
    tenant_id: str = "public", user_context: dict[str, Any] | None = None
) -> int:
    """How many users sign in to ``tenant_id``."""
    return await service.get_user_count(current_app(), tenant_id=tenant_id)


async def delete_user(
    user_id: str,
    remove_all_linked_accounts: bool = True,
    user_context: dict[str, Any] | None = None,
) -> bool:
    """Delete the user and everything of it (sessions included); False if unknown."""
    return await service.delete_user(current_app(), user_id, user_context or {})
