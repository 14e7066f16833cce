"""Passwordless functions for synchronous code (see :mod:`bastion.bridge`)."""

from bastion.bridge import syncify
from bastion.recipe.passwordless import asyncio as _async

__all__ = [
    "consume_code",
    "create_code",
    "create_magic_link",
    "create_new_code_for_device",
    "list_codes_by_device_id",
    "list_codes_by_email",
    "list_codes_by_phone_number",
    "list_codes_by_pre_auth_session_id",
    "revoke_all_codes",
    "revoke_code",
    "signinup",
]

consume_code = syncify(_async.consume_code)
create_code = syncify(_async.create_code)
create_magic_link = syncify(_async.create_magic_link)
create_new_code_for_device = syncify(_async.create_new_code_for_device)
list_codes_by_device_id = syncify(_async.list_codes_by_device_id)
list_codes_by_email = syncify(_async.list_codes_by_email)
list_codes_by_phone_number = syncify(_async.list_codes_by_phone_number)
list_codes_by_pre_auth_session_id = syncify(_async.list_codes_by_pre_auth_session_id)
revoke_all_codes = syncify(_async.revoke_all_codes)
revoke_code = syncify(_async.revoke_code)
signinup = syncify(_async.signinup)
