"""SQLite storage for multi-factor auth, mixed into :class:`~bastion.storage.sqlite.SQLiteStore`.

Every method that writes is one ``BEGIN IMMEDIATE`` transaction. The two races that matter are
settled by the database, not in memory, so they hold across threads and processes:

- TOTP replay: accepting a code is ``UPDATE … SET last_used_step = :step WHERE last_used_step
  < :step`` on the device row; only one of many concurrent submissions changes the row.
- Guessing: :meth:`begin_factor_attempt` counts the attempt as a failure *before* the code is
  checked (the decision is :func:`bastion.core.attempts.begin_attempt`), so parallel guesses
  cannot slip past the limit; a success resets the counters in the same transaction that
  records it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from bastion.core.attempts import AttemptDecision, AttemptPolicy, AttemptState, begin_attempt
from bastion.storage.base import RecoveryCodeRecord, TOTPDeviceRecord

__all__ = ["SQLiteMFAMixin"]

_DEVICE_COLUMNS = (
    "device_id, user_id, name, sealed_secret, algorithm, digits, period, skew, verified, "
    "created_at_ms, last_used_step"
)
_RESET_ATTEMPTS = "UPDATE mfa_attempts SET failures = 0, consecutive = 0 WHERE user_id = ?"


def _device(row: tuple[Any, ...]) -> TOTPDeviceRecord:
    return TOTPDeviceRecord(
        device_id=row[0],
        user_id=row[1],
        name=row[2],
        sealed_secret=row[3],
        algorithm=row[4],
        digits=row[5],
        period=row[6],
        skew=row[7],
        verified=bool(row[8]),
        created_at_ms=row[9],
        last_used_step=row[10],
    )


class SQLiteMFAMixin:
    """TOTP devices, failed-attempt counters, required factors and recovery codes."""

    if TYPE_CHECKING:

        def _connection(self) -> sqlite3.Connection: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- TOTP devices ---------------------------------------------------------------------------

    async def put_totp_device(self, device: TOTPDeviceRecord) -> bool:
        with self._write() as conn:
            row = conn.execute(
                "SELECT verified FROM totp_devices WHERE user_id = ? AND name = ?",
                (device.user_id, device.name),
            ).fetchone()
            if row is not None and row[0]:
                return False
            if row is not None:
                conn.execute(
                    "DELETE FROM totp_devices WHERE user_id = ? AND name = ?",
                    (device.user_id, device.name),
                )
            conn.execute(
                f"INSERT INTO totp_devices ({_DEVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    device.device_id,
                    device.user_id,
                    device.name,
                    device.sealed_secret,
                    device.algorithm,
                    device.digits,
                    device.period,
                    device.skew,
                    int(device.verified),
                    device.created_at_ms,
                    device.last_used_step,
                ),
            )
            return True

    async def list_totp_devices(self, user_id: str) -> list[TOTPDeviceRecord]:
        rows = self._connection().execute(
            f"SELECT {_DEVICE_COLUMNS} FROM totp_devices WHERE user_id = ? "  # noqa: S608
            "ORDER BY created_at_ms, rowid",
            (user_id,),
        )
        return [_device(r) for r in rows]

    async def remove_totp_device(self, user_id: str, name: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM totp_devices WHERE user_id = ? AND name = ?", (user_id, name)
            )
            return cursor.rowcount == 1

    async def accept_totp_step(self, device_id: str, step: int, *, mark_verified: bool) -> bool:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE totp_devices SET last_used_step = ?, verified = verified OR ? "
                "WHERE device_id = ? AND (last_used_step IS NULL OR last_used_step < ?) "
                "RETURNING user_id",
                (step, int(mark_verified), device_id, step),
            ).fetchone()
            if row is None:
                return False
            conn.execute(_RESET_ATTEMPTS, (row[0],))
            return True

    async def reseal_totp_secrets(self, reseal: Callable[[TOTPDeviceRecord], str]) -> int:
        changed = 0
        with self._write() as conn:
            rows = conn.execute(f"SELECT {_DEVICE_COLUMNS} FROM totp_devices").fetchall()  # noqa: S608
            for row in rows:
                device = _device(row)
                sealed = reseal(device)
                if sealed != device.sealed_secret:
                    conn.execute(
                        "UPDATE totp_devices SET sealed_secret = ? WHERE device_id = ?",
                        (sealed, device.device_id),
                    )
                    changed += 1
        return changed

    # -- failed attempts --------------------------------------------------------------------------

    async def begin_factor_attempt(
        self, user_id: str, *, now_ms: int, policy: AttemptPolicy, honour_hard_lock: bool
    ) -> AttemptDecision:
        with self._write() as conn:
            row = conn.execute(
                "SELECT failures, consecutive, last_failure_ms FROM mfa_attempts WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            state = AttemptState(*row) if row is not None else AttemptState()
            decision = begin_attempt(state, now_ms, policy, honour_hard_lock=honour_hard_lock)
            if decision.allowed:
                new = decision.state
                conn.execute(
                    "INSERT INTO mfa_attempts (user_id, failures, consecutive, last_failure_ms) "
                    "VALUES (?,?,?,?) ON CONFLICT (user_id) DO UPDATE SET "
                    "failures = excluded.failures, consecutive = excluded.consecutive, "
                    "last_failure_ms = excluded.last_failure_ms",
                    (user_id, new.failures, new.consecutive, new.last_failure_ms),
                )
            return decision

    async def get_factor_attempts(self, user_id: str) -> AttemptState:
        row = (
            self._connection()
            .execute(
                "SELECT failures, consecutive, last_failure_ms FROM mfa_attempts WHERE user_id = ?",
                (user_id,),
            )
            .fetchone()
        )
        return AttemptState(*row) if row is not None else AttemptState()

    async def reset_factor_attempts(self, user_id: str) -> None:
        with self._write() as conn:
            conn.execute(_RESET_ATTEMPTS, (user_id,))

    # -- required secondary factors -----------------------------------------------------------

    async def add_required_factor(self, scope: str, subject: str, factor_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO mfa_required_factors (scope, subject, factor_id) VALUES (?,?,?) "
                "ON CONFLICT DO NOTHING",
                (scope, subject, factor_id),
            )
            return cursor.rowcount == 1

    async def remove_required_factor(self, scope: str, subject: str, factor_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM mfa_required_factors WHERE scope = ? AND subject = ? "
                "AND factor_id = ?",
                (scope, subject, factor_id),
            )
            return cursor.rowcount == 1

    async def list_required_factors(self, scope: str, subject: str) -> list[str]:
        rows = self._connection().execute(
            "SELECT factor_id FROM mfa_required_factors WHERE scope = ? AND subject = ? "
            "ORDER BY rowid",
            (scope, subject),
        )
        return [r[0] for r in rows]

    async def delete_mfa_data(self, user_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM totp_devices WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM mfa_attempts WHERE user_id = ?", (user_id,))
            conn.execute(
                "DELETE FROM mfa_required_factors WHERE scope = 'user' AND subject = ?",
                (user_id,),
            )

    # -- recovery codes -----------------------------------------------------------------------

    async def replace_recovery_codes(self, user_id: str, codes: list[RecoveryCodeRecord]) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
            conn.executemany(
                "INSERT INTO recovery_codes (user_id, code_id, code_hash, created_at_ms, "
                "used_at_ms) VALUES (?,?,?,?,?)",
                [(user_id, c.code_id, c.code_hash, c.created_at_ms, c.used_at_ms) for c in codes],
            )

    async def list_recovery_codes(self, user_id: str) -> list[RecoveryCodeRecord]:
        rows = self._connection().execute(
            "SELECT user_id, code_id, code_hash, created_at_ms, used_at_ms FROM recovery_codes "
            "WHERE user_id = ? ORDER BY rowid",
            (user_id,),
        )
        return [RecoveryCodeRecord(*r) for r in rows]

    async def use_recovery_code(
        self, user_id: str, code_id: str, code_hash: str, *, now_ms: int, reset_attempts: bool
    ) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE recovery_codes SET used_at_ms = ? WHERE user_id = ? AND code_id = ? "
                "AND code_hash = ? AND used_at_ms IS NULL",
                (now_ms, user_id, code_id, code_hash),
            )
            if cursor.rowcount != 1:
                return False
            if reset_attempts:
                conn.execute(_RESET_ATTEMPTS, (user_id,))
            else:  # take back the failure this attempt was counted as in advance
                conn.execute(
                    "UPDATE mfa_attempts SET failures = MAX(failures - 1, 0), "
                    "consecutive = MAX(consecutive - 1, 0) WHERE user_id = ?",
                    (user_id,),
                )
            return True
