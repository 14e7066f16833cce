"""The :class:`~bastion.core.crypto.SecretBox` that seals TOTP secrets for one app."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from bastion.bridge import run_sync
from bastion.core.crypto import SecretBox
from bastion.errors import ConfigError

if TYPE_CHECKING:
    from bastion.app import Bastion

__all__ = ["GENERATED_KEY_SECRET", "secret_box_for"]

logger = logging.getLogger("bastion")
GENERATED_KEY_SECRET = "secret-box-key"
_warned: set[str] = set()


def secret_box_for(app: Bastion) -> SecretBox:
    """The app's box: its ``encryption_keys``, or a key generated once and kept in the database.

    The fallback logs a warning (once per database): secrets encrypted with a key stored next
    to them are only as safe as the database itself.
    """
    keys = list(app.encryption_keys)
    if not keys:
        keys = [
            run_sync(app.store.get_or_create_secret(GENERATED_KEY_SECRET, secrets.token_bytes(32)))
        ]
        where = getattr(app.store, "path", "the database")
        if where not in _warned:
            _warned.add(where)
            logger.warning(
                "no encryption_keys configured: TOTP secrets are encrypted with a key kept in "
                "the same database, so they are only as safe as the database; pass "
                "bastion.init(encryption_keys=[...]) (see bastion.core.crypto.generate_key)"
            )
    try:
        return SecretBox(keys)
    except ValueError as exc:
        raise ConfigError(f"encryption_keys: {exc}") from exc
