"""Users: the model every recipe shares, and the functions to read and delete them.

A user has an ``id`` (a UUID string), ``time_joined`` (ms since the epoch), its ``emails`` and
its ``login_methods``; ``User.to_json()`` is the user JSON of the FDI (spec section 7).

Functions for application code, in :mod:`bastion.asyncio` and (same names, synchronous)
:mod:`bastion.syncio`:

- ``get_user(user_id)`` -> ``User | None``
- ``get_user_by_email(email, tenant_id="public")`` -> ``User | None``
- ``list_users_by_account_info(tenant_id, AccountInfo(email=...))`` -> ``list[User]``
- ``get_users_oldest_first(tenant_id, limit=None, pagination_token=None)`` and
  ``get_users_newest_first(...)`` -> ``UsersPage(users, next_pagination_token)``
- ``get_user_count(tenant_id="public")`` -> ``int``
- ``delete_user(user_id)`` -> ``bool``: removes the user and everything of it, sessions
  included. A recipe with per-user data of its own implements
  ``async def delete_user_data(self, user_id, user_context)``, called before the user goes.

Recipes inside bastion use :mod:`bastion.users.service`, which takes the app explicitly.
"""

from bastion.users.emails import email_key, is_valid_email, normalise_email
from bastion.users.model import LoginMethod, User
from bastion.users.service import UsersPage

__all__ = ["LoginMethod", "User", "UsersPage", "email_key", "is_valid_email", "normalise_email"]
