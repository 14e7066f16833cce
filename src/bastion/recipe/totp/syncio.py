"""TOTP functions for synchronous code: those of :mod:`bastion.recipe.totp.asyncio`, driven
without an event loop."""

from bastion.bridge import syncify
from bastion.recipe.totp import asyncio as _async

__all__ = [
    "create_device",
    "get_failed_attempts",
    "list_devices",
    "reencrypt_secrets",
    "remove_device",
    "reset_failed_attempts",
    "verify_device",
    "verify_totp",
]

create_device = syncify(_async.create_device)
get_failed_attempts = syncify(_async.get_failed_attempts)
list_devices = syncify(_async.list_devices)
reencrypt_secrets = syncify(_async.reencrypt_secrets)
remove_device = syncify(_async.remove_device)
reset_failed_attempts = syncify(_async.reset_failed_attempts)
verify_device = syncify(_async.verify_device)
verify_totp = syncify(_async.verify_totp)
