"""Email-password functions for synchronous code (see :mod:`bastion.bridge`)."""

from bastion.bridge import syncify
from bastion.recipe.emailpassword import asyncio as _async

__all__ = [
    "create_reset_password_link",
    "create_reset_password_token",
    "import_user_with_password_hash",
    "reset_password_using_token",
    "send_reset_password_email",
    "sign_in",
    "sign_up",
    "update_email_or_password",
]

create_reset_password_link = syncify(_async.create_reset_password_link)
create_reset_password_token = syncify(_async.create_reset_password_token)
import_user_with_password_hash = syncify(_async.import_user_with_password_hash)
reset_password_using_token = syncify(_async.reset_password_using_token)
send_reset_password_email = syncify(_async.send_reset_password_email)
sign_in = syncify(_async.sign_in)
sign_up = syncify(_async.sign_up)
update_email_or_password = syncify(_async.update_email_or_password)
