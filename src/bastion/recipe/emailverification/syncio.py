"""Email-verification functions for synchronous code (see :mod:`bastion.bridge`)."""

from bastion.bridge import syncify
from bastion.recipe.emailverification import asyncio as _async

__all__ = [
    "create_email_verification_link",
    "create_email_verification_token",
    "is_email_verified",
    "send_email_verification_email",
    "unverify_email",
    "verify_email_using_token",
]

create_email_verification_link = syncify(_async.create_email_verification_link)
create_email_verification_token = syncify(_async.create_email_verification_token)
is_email_verified = syncify(_async.is_email_verified)
send_email_verification_email = syncify(_async.send_email_verification_email)
unverify_email = syncify(_async.unverify_email)
verify_email_using_token = syncify(_async.verify_email_using_token)
