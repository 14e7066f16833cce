"""User management for synchronous code: the functions of :mod:`bastion.asyncio`, driven
without an event loop (see :mod:`bastion.bridge`)."""

from bastion import asyncio as _async
from bastion.asyncio import AccountInfo, UsersPage
from bastion.bridge import syncify

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

delete_user = syncify(_async.delete_user)
get_user = syncify(_async.get_user)
get_user_by_email = syncify(_async.get_user_by_email)
get_user_count = syncify(_async.get_user_count)
get_users_newest_first = syncify(_async.get_users_newest_first)
get_users_oldest_first = syncify(_async.get_users_oldest_first)
list_users_by_account_info = syncify(_async.list_users_by_account_info)
