"""The process's view of the signing keys, kept in storage and cached here.

Verification never touches storage for a known key id. An unknown ``kid`` reloads the keys (at
most every 500 ms) because another process may have rotated them. Signing checks the rotation
plan and, when a new key is due, creates it and lets storage settle races between processes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bastion.bridge import run_blocking
from bastion.clock import Clock
from bastion.core.crypto import PREFIX, DecryptionError, SecretBox
from bastion.core.keys import PUBLISH_AHEAD_MS, SigningKey, generate_signing_key, plan_rotation
from bastion.errors import ConfigError
from bastion.storage.base import KeyStore

__all__ = ["KeyRing"]

RELOAD_COOLDOWN_MS = 500
SEALED_PREFIX = PREFIX.encode("ascii") + b"."


class KeyRing:
    """Signing keys: cached for verification, rotated on schedule for signing."""

    def __init__(
        self,
        store: KeyStore,
        clock: Clock,
        *,
        dynamic: bool,
        interval_s: int,
        access_validity_s: int,
        box: SecretBox | None = None,
    ) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._dynamic = dynamic
        self._interval_ms = interval_s * 1000
        self._access_validity_ms = access_validity_s * 1000
        self._keys: dict[str, SigningKey] = {}
        self._loaded_at_ms = -RELOAD_COOLDOWN_MS

    async def _reload(self) -> None:
        keys = await self._store.list_signing_keys()
        opened = {k.kid: self._opened(k) for k in keys}
        if self._box is not None:
            # Seal what an older encryption key (or none) left behind under the current one.
            for stored in keys:
                if self._box_is_behind(self._box, stored.private_pem):
                    resealed = self._sealed(opened[stored.kid]).private_pem
                    await self._store.update_signing_key_material(stored.kid, resealed)
        self._keys = opened
        self._loaded_at_ms = self._clock.now_ms()

    @staticmethod
    def _box_is_behind(box: SecretBox, private_pem: bytes) -> bool:
        if not private_pem.startswith(SEALED_PREFIX):
            return True
        return box.needs_reseal(private_pem.decode("ascii"))

    def _sealed(self, key: SigningKey) -> SigningKey:
        """``key`` as stored: its private half sealed when encryption keys are configured."""
        if self._box is None:
            return key
        sealed = self._box.seal(key.private_pem, key.kid.encode())
        return dataclasses.replace(key, private_pem=sealed.encode("ascii"))

    def _opened(self, key: SigningKey) -> SigningKey:
        if not key.private_pem.startswith(SEALED_PREFIX):
            return key  # stored before encryption keys were configured
        if self._box is None:
            raise ConfigError(
                "the signing keys are encrypted: pass the same encryption_keys to bastion.init"
            )
        try:
            pem = self._box.open(key.private_pem.decode("ascii"), key.kid.encode())
        except DecryptionError as exc:
            raise ConfigError(f"cannot decrypt signing key {key.kid}: {exc}") from exc
        return dataclasses.replace(key, private_pem=pem)

    async def signing_key(self) -> SigningKey:
        """The key to sign with now, creating (and publishing) keys as the schedule requires.

        Processes that plan the same key at once each make one, and storage keeps the first
        stored in the plan's slot; everyone then signs with that one.
        """
        now = self._clock.now_ms()
        plan = plan_rotation(list(self._keys.values()), dynamic=self._dynamic, now_ms=now)
        if plan.create_from_ms is not None or plan.signing is None:
            await self._reload()
            plan = plan_rotation(list(self._keys.values()), dynamic=self._dynamic, now_ms=now)
            if plan.create_from_ms is not None and plan.create_slot is not None:
                create_from, slot = plan.create_from_ms, plan.create_slot
                # RSA key generation is ~0.1 s of CPU: not on the event loop.
                key = await run_blocking(
                    lambda: generate_signing_key(
                        dynamic=self._dynamic,
                        sign_from_ms=create_from,
                        interval_ms=self._interval_ms,
                        access_validity_ms=self._access_validity_ms,
                    )
                )
                kept = await self._store.add_signing_key(
                    self._sealed(key), slot=slot, expired=list(plan.expired)
                )
                await self._reload()
                plan = plan_rotation(list(self._keys.values()), dynamic=self._dynamic, now_ms=now)
                if plan.signing is None and kept.kid in self._keys:
                    # Another process's key won the slot and starts a moment later on our clock.
                    return self._keys[kept.kid]
        if plan.signing is None:  # pragma: no cover - a created key always signs now
            raise RuntimeError("no signing key available")
        return plan.signing

    def cached_key(self, kid: str) -> SigningKey | None:
        """A verification key from the cache (no I/O), if it is still valid."""
        key = self._keys.get(kid)
        if key is None or not key.verifies_at(self._clock.now_ms()):
            return None
        return key

    async def verification_key(self, kid: str) -> SigningKey | None:
        """Like :meth:`cached_key`, reloading from storage once for an unknown ``kid``."""
        key = self.cached_key(kid)
        if key is None and self._clock.now_ms() - self._loaded_at_ms >= RELOAD_COOLDOWN_MS:
            await self._reload()
            key = self.cached_key(kid)
        return key

    async def jwks(self) -> tuple[list[dict[str, Any]], int]:
        """The public keys that verify now, and how long (s) a client may cache them."""
        signing = await self.signing_key()
        now = self._clock.now_ms()
        keys = [k.jwk() for k in self._keys.values() if k.verifies_at(now)]
        if signing.is_dynamic:
            last_until = max(k.sign_until_ms for k in self._keys.values() if k.is_dynamic)
            max_age = max(1, (last_until - PUBLISH_AHEAD_MS - now) // 1000)
        else:
            max_age = 3600
        return keys, max_age
