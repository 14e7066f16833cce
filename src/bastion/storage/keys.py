"""Signing keys and server secrets: the protocol and its SQL."""

from __future__ import annotations

from typing import Protocol

from bastion.core.keys import SigningKey
from bastion.errors import StorageError
from bastion.storage.sql import Row, SQLStoreBase, Tx, query, transaction

__all__ = ["KeyQueries", "KeyStore"]


class KeyStore(Protocol):
    """Signing keys and server secrets."""

    async def list_signing_keys(self) -> list[SigningKey]:
        """Every stored key, oldest ``sign_from_ms`` first."""
        ...

    async def add_signing_key(
        self, key: SigningKey, *, slot: str, expired: list[str]
    ) -> SigningKey:
        """Drop the ``expired`` keys, then store ``key`` unless ``slot`` is taken.

        Returns the key that holds ``slot`` afterwards: ``key``, or the one another process
        stored first. Concurrent callers with the same slot all get the same key back.
        """
        ...

    async def update_signing_key_material(self, kid: str, private_pem: bytes) -> None:
        """Replace the stored private half of ``kid`` (re-sealed under a new encryption key);
        concurrent re-seals of the same key are all valid, the last one stays."""
        ...

    async def get_or_create_secret(self, name: str, candidate: bytes) -> bytes:
        """Return the secret called ``name``, storing ``candidate`` first if there is none.

        Concurrent callers (several processes starting at once) all get the same value.
        """
        ...


_KEY_COLUMNS = "kid, private_pem, sign_from_ms, sign_until_ms, verify_until_ms"


def _key(row: Row) -> SigningKey:
    return SigningKey(row[0], bytes(row[1]), row[2], row[3], row[4])


class KeyQueries(SQLStoreBase):
    """:class:`KeyStore` in SQL."""

    @query
    def list_signing_keys(self, tx: Tx) -> list[SigningKey]:
        rows = tx.all(f"SELECT {_KEY_COLUMNS} FROM signing_keys ORDER BY sign_from_ms, kid")  # noqa: S608
        return [_key(r) for r in rows]

    @transaction
    def add_signing_key(
        self, tx: Tx, key: SigningKey, *, slot: str, expired: list[str]
    ) -> SigningKey:
        tx.many("DELETE FROM signing_keys WHERE kid = ?", [(k,) for k in expired])
        # Waits for a concurrent insert of the same slot to commit, then does nothing.
        tx.execute(
            f"INSERT INTO signing_keys (slot, {_KEY_COLUMNS}) VALUES (?,?,?,?,?,?) "  # noqa: S608
            "ON CONFLICT DO NOTHING",
            (
                slot,
                key.kid,
                key.private_pem,
                key.sign_from_ms,
                key.sign_until_ms,
                key.verify_until_ms,
            ),
        )
        row = tx.one(f"SELECT {_KEY_COLUMNS} FROM signing_keys WHERE slot = ?", (slot,))  # noqa: S608
        if row is None:  # the kid was taken under another slot: only ever by this same key
            row = tx.one(f"SELECT {_KEY_COLUMNS} FROM signing_keys WHERE kid = ?", (key.kid,))  # noqa: S608
        if row is None:  # pragma: no cover - the insert or the conflict left a row
            raise StorageError(f"signing key {key.kid} was neither stored nor found")
        return _key(row)

    @transaction
    def update_signing_key_material(self, tx: Tx, kid: str, private_pem: bytes) -> None:
        tx.execute("UPDATE signing_keys SET private_pem = ? WHERE kid = ?", (private_pem, kid))

    @transaction
    def get_or_create_secret(self, tx: Tx, name: str, candidate: bytes) -> bytes:
        tx.execute(
            "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, candidate),
        )
        row = tx.one("SELECT value FROM secrets WHERE name = ?", (name,))
        if row is None:  # pragma: no cover - the insert or the conflict left a row
            raise StorageError(f"secret {name} was neither stored nor found")
        return bytes(row[0])
