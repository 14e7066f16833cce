"""Multi-factor auth: TOTP devices, failed attempts, required factors and recovery codes.

The races that matter are settled by the database, so they hold across threads and processes:

- TOTP replay: accepting a code is ``UPDATE … SET last_used_step = :step WHERE last_used_step
  < :step`` on the device row; only one of many concurrent submissions changes the row.
- Guessing: :meth:`MFAStore.begin_factor_attempt` counts the attempt as a failure *before* the
  code is checked (the decision is :func:`bastion.core.attempts.begin_attempt`), on the user's
  counter row locked for the transaction, so parallel guesses cannot slip past the limit; a
  success resets the counters in the same transaction that records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bastion.core.attempts import AttemptDecision, AttemptPolicy, AttemptState, begin_attempt
from bastion.storage.sql import Row, SQLStoreBase, Tx, query, transaction

__all__ = [
    "MFAQueries",
    "MFAStore",
    "RecoveryCodeRecord",
    "RecoveryCodeStore",
    "TOTPDeviceRecord",
    "TOTPStore",
]


@dataclass(frozen=True, slots=True)
class TOTPDeviceRecord:
    """A TOTP device. Its secret is sealed with :class:`bastion.core.crypto.SecretBox`."""

    device_id: str
    user_id: str
    name: str
    sealed_secret: str
    algorithm: str
    digits: int
    period: int
    skew: int
    verified: bool
    created_at_ms: int
    last_used_step: int | None
    """The last accepted time step: no code of this step or an earlier one is accepted again."""


@dataclass(frozen=True, slots=True)
class RecoveryCodeRecord:
    """One recovery code of a user: its public id and the salted slow hash of its secret."""

    user_id: str
    code_id: str
    code_hash: str
    created_at_ms: int
    used_at_ms: int | None


class TOTPStore(Protocol):
    """TOTP devices and their replay marker."""

    async def put_totp_device(self, device: TOTPDeviceRecord) -> bool:
        """Add ``device``, replacing an *unverified* device of the same name; False (nothing
        changed) when a verified device has that name. One upsert: concurrent puts of one name
        leave exactly one device."""
        ...

    async def list_totp_devices(self, user_id: str) -> list[TOTPDeviceRecord]:
        """The user's devices, oldest first."""
        ...

    async def remove_totp_device(self, user_id: str, name: str) -> bool: ...

    async def accept_totp_step(self, device_id: str, step: int, *, mark_verified: bool) -> bool:
        """Record ``step`` as used, unless this or a later step already was (then False: a
        replay). In the same transaction: mark the device verified if asked, and reset the
        user's failed attempts. Of concurrent calls with one step, on any processes, exactly
        one gets True."""
        ...

    async def reseal_totp_secrets(self, reseal: Callable[[TOTPDeviceRecord], str]) -> int:
        """Store ``reseal(device)`` as each device's secret where it changed; returns how many.

        Each device is updated only if its secret is still the one ``reseal`` saw, so a device
        replaced meanwhile keeps its new secret.
        """
        ...


class MFAStore(Protocol):
    """Failed second-factor attempts (per user) and required secondary factors."""

    async def begin_factor_attempt(
        self, user_id: str, *, now_ms: int, policy: AttemptPolicy, honour_hard_lock: bool
    ) -> AttemptDecision:
        """Apply :func:`bastion.core.attempts.begin_attempt` in one transaction: an allowed
        attempt is stored as a failure before its code is checked. The user's counter row is
        locked meanwhile, so of N concurrent attempts exactly as many are allowed as the policy
        has left, on any number of processes."""
        ...

    async def get_factor_attempts(self, user_id: str) -> AttemptState: ...

    async def reset_factor_attempts(self, user_id: str) -> None: ...

    async def add_required_factor(self, scope: str, subject: str, factor_id: str) -> bool:
        """``scope`` is ``"user"`` (subject: a user id) or ``"app"`` (subject: ``""``); False if
        it was already required."""
        ...

    async def remove_required_factor(self, scope: str, subject: str, factor_id: str) -> bool: ...

    async def list_required_factors(self, scope: str, subject: str) -> list[str]:
        """In the order they were added."""
        ...

    async def delete_mfa_data(self, user_id: str) -> None:
        """Remove the user's TOTP devices, recovery codes, attempt counter and required
        factors, in one transaction (the user is being deleted)."""
        ...


class RecoveryCodeStore(Protocol):
    """Recovery codes, kept as salted slow hashes."""

    async def replace_recovery_codes(self, user_id: str, codes: list[RecoveryCodeRecord]) -> None:
        """Drop the user's codes and store ``codes`` instead, in one transaction; concurrent
        replacements for one user are serialised (the last one's codes are the ones kept)."""
        ...

    async def list_recovery_codes(self, user_id: str) -> list[RecoveryCodeRecord]:
        """In the order they were stored."""
        ...

    async def use_recovery_code(
        self, user_id: str, code_id: str, code_hash: str, *, now_ms: int, reset_attempts: bool
    ) -> bool:
        """Mark the code used if it is still unused and still has ``code_hash``; False
        otherwise (one conditional UPDATE: a code works once, whoever races for it). In the same
        transaction, with ``reset_attempts`` the user's failed attempts (and a hard lock) are
        cleared; without, this attempt's advance failure is taken back."""
        ...


_DEVICE_COLUMNS = (
    "device_id, user_id, name, sealed_secret, algorithm, digits, period, skew, verified, "
    "created_at_ms, last_used_step"
)
_RESET_ATTEMPTS = "UPDATE mfa_attempts SET failures = 0, consecutive = 0 WHERE user_id = ?"
_ATTEMPTS = "SELECT failures, consecutive, last_failure_ms FROM mfa_attempts WHERE user_id = ?"


def _device(row: Row) -> TOTPDeviceRecord:
    device_id, user_id, name, sealed, algorithm, digits, period, skew, verified, at, step = row
    return TOTPDeviceRecord(
        device_id, user_id, name, sealed, algorithm, digits, period, skew, bool(verified), at, step
    )


class MFAQueries(SQLStoreBase):
    """:class:`TOTPStore`, :class:`MFAStore` and :class:`RecoveryCodeStore` in SQL."""

    # -- TOTP devices ---------------------------------------------------------------------------

    @transaction
    def put_totp_device(self, tx: Tx, device: TOTPDeviceRecord) -> bool:
        row = tx.one(
            f"INSERT INTO totp_devices ({_DEVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) "  # noqa: S608
            "ON CONFLICT (user_id, name) DO UPDATE SET device_id = excluded.device_id, "
            "sealed_secret = excluded.sealed_secret, algorithm = excluded.algorithm, "
            "digits = excluded.digits, period = excluded.period, skew = excluded.skew, "
            "verified = excluded.verified, created_at_ms = excluded.created_at_ms, "
            "last_used_step = excluded.last_used_step WHERE NOT totp_devices.verified "
            "RETURNING device_id",
            (
                device.device_id,
                device.user_id,
                device.name,
                device.sealed_secret,
                device.algorithm,
                device.digits,
                device.period,
                device.skew,
                device.verified,
                device.created_at_ms,
                device.last_used_step,
            ),
        )
        return row is not None

    @query
    def list_totp_devices(self, tx: Tx, user_id: str) -> list[TOTPDeviceRecord]:
        rows = tx.all(
            f"SELECT {_DEVICE_COLUMNS} FROM totp_devices WHERE user_id = ? "  # noqa: S608
            "ORDER BY created_at_ms, rowid",
            (user_id,),
        )
        return [_device(r) for r in rows]

    @transaction
    def remove_totp_device(self, tx: Tx, user_id: str, name: str) -> bool:
        changed = tx.execute(
            "DELETE FROM totp_devices WHERE user_id = ? AND name = ?", (user_id, name)
        )
        return changed == 1

    @transaction
    def accept_totp_step(self, tx: Tx, device_id: str, step: int, *, mark_verified: bool) -> bool:
        row = tx.one(
            "UPDATE totp_devices SET last_used_step = ?, verified = (verified OR ?) "
            "WHERE device_id = ? AND (last_used_step IS NULL OR last_used_step < ?) "
            "RETURNING user_id",
            (step, mark_verified, device_id, step),
        )
        if row is None:
            return False
        tx.execute(_RESET_ATTEMPTS, (row[0],))
        return True

    @transaction
    def reseal_totp_secrets(self, tx: Tx, reseal: Callable[[TOTPDeviceRecord], str]) -> int:
        changed = 0
        for row in tx.all(f"SELECT {_DEVICE_COLUMNS} FROM totp_devices ORDER BY device_id"):  # noqa: S608
            device = _device(row)
            sealed = reseal(device)
            if sealed != device.sealed_secret:
                changed += tx.execute(
                    "UPDATE totp_devices SET sealed_secret = ? "
                    "WHERE device_id = ? AND sealed_secret = ?",
                    (sealed, device.device_id, device.sealed_secret),
                )
        return changed

    # -- failed attempts --------------------------------------------------------------------------

    @transaction
    def begin_factor_attempt(
        self,
        tx: Tx,
        user_id: str,
        *,
        now_ms: int,
        policy: AttemptPolicy,
        honour_hard_lock: bool,
    ) -> AttemptDecision:
        # The counter row exists from here on and is locked until the decision is stored.
        tx.execute(
            "INSERT INTO mfa_attempts (user_id, failures, consecutive, last_failure_ms) "
            "VALUES (?, 0, 0, NULL) ON CONFLICT (user_id) DO NOTHING",
            (user_id,),
        )
        row = tx.one(_ATTEMPTS, (user_id,), for_update=True)
        state = AttemptState(*row) if row is not None else AttemptState()
        decision = begin_attempt(state, now_ms, policy, honour_hard_lock=honour_hard_lock)
        if decision.allowed:
            new = decision.state
            tx.execute(
                "UPDATE mfa_attempts SET failures = ?, consecutive = ?, last_failure_ms = ? "
                "WHERE user_id = ?",
                (new.failures, new.consecutive, new.last_failure_ms, user_id),
            )
        return decision

    @query
    def get_factor_attempts(self, tx: Tx, user_id: str) -> AttemptState:
        row = tx.one(_ATTEMPTS, (user_id,))
        return AttemptState(*row) if row is not None else AttemptState()

    @transaction
    def reset_factor_attempts(self, tx: Tx, user_id: str) -> None:
        tx.execute(_RESET_ATTEMPTS, (user_id,))

    # -- required secondary factors -----------------------------------------------------------

    @transaction
    def add_required_factor(self, tx: Tx, scope: str, subject: str, factor_id: str) -> bool:
        added = tx.execute(
            "INSERT INTO mfa_required_factors (scope, subject, factor_id) VALUES (?,?,?) "
            "ON CONFLICT DO NOTHING",
            (scope, subject, factor_id),
        )
        return added == 1

    @transaction
    def remove_required_factor(self, tx: Tx, scope: str, subject: str, factor_id: str) -> bool:
        removed = tx.execute(
            "DELETE FROM mfa_required_factors WHERE scope = ? AND subject = ? AND factor_id = ?",
            (scope, subject, factor_id),
        )
        return removed == 1

    @query
    def list_required_factors(self, tx: Tx, scope: str, subject: str) -> list[str]:
        rows = tx.all(
            "SELECT factor_id FROM mfa_required_factors WHERE scope = ? AND subject = ? "
            "ORDER BY rowid",
            (scope, subject),
        )
        return [r[0] for r in rows]

    @transaction
    def delete_mfa_data(self, tx: Tx, user_id: str) -> None:
        tx.execute("DELETE FROM totp_devices WHERE user_id = ?", (user_id,))
        tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        tx.execute("DELETE FROM mfa_attempts WHERE user_id = ?", (user_id,))
        tx.execute(
            "DELETE FROM mfa_required_factors WHERE scope = 'user' AND subject = ?", (user_id,)
        )

    # -- recovery codes -----------------------------------------------------------------------

    @transaction
    def replace_recovery_codes(self, tx: Tx, user_id: str, codes: list[RecoveryCodeRecord]) -> None:
        tx.lock("recovery_codes", user_id)  # no row to lock when the user has no codes yet
        tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        tx.many(
            "INSERT INTO recovery_codes (user_id, code_id, code_hash, created_at_ms, used_at_ms) "
            "VALUES (?,?,?,?,?)",
            [(user_id, c.code_id, c.code_hash, c.created_at_ms, c.used_at_ms) for c in codes],
        )

    @query
    def list_recovery_codes(self, tx: Tx, user_id: str) -> list[RecoveryCodeRecord]:
        rows = tx.all(
            "SELECT user_id, code_id, code_hash, created_at_ms, used_at_ms FROM recovery_codes "
            "WHERE user_id = ? ORDER BY rowid",
            (user_id,),
        )
        return [RecoveryCodeRecord(*r) for r in rows]

    @transaction
    def use_recovery_code(
        self,
        tx: Tx,
        user_id: str,
        code_id: str,
        code_hash: str,
        *,
        now_ms: int,
        reset_attempts: bool,
    ) -> bool:
        used = tx.execute(
            "UPDATE recovery_codes SET used_at_ms = ? WHERE user_id = ? AND code_id = ? "
            "AND code_hash = ? AND used_at_ms IS NULL",
            (now_ms, user_id, code_id, code_hash),
        )
        if used != 1:
            return False
        if reset_attempts:
            tx.execute(_RESET_ATTEMPTS, (user_id,))
        else:  # take back the failure this attempt was counted as in advance
            tx.execute(
                "UPDATE mfa_attempts SET "
                "failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, "
                "consecutive = CASE WHEN consecutive > 0 THEN consecutive - 1 ELSE 0 END "
                "WHERE user_id = ?",
                (user_id,),
            )
        return True
