"""Audit events: one structured record for every authentication event (ASVS 5.0 16.2, 16.3).

Each event goes to the ``bastion.audit`` logger, with the fields of :class:`AuditEvent` as the
record's ``extra`` attributes (``record.event``, ``record.outcome``, ``record.user_id``, ...),
and to the app's ``audit_callback`` when ``bastion.init`` was given one.

An event never carries a password, token, code or secret. When the user is unknown (a sign-in
for an email nobody registered), the account the request named appears only as a keyed hash:
HMAC-SHA256 under a key kept in the app's stored secrets, so the same email always gives the
same value (events can be correlated) while the log alone cannot be searched for an address.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bastion.clock import Clock
from bastion.http.types import BaseRequest
from bastion.ratelimit import IPNetwork, client_ip

__all__ = ["AuditCallback", "AuditEvent", "Auditor", "EventType", "Outcome"]

logger = logging.getLogger("bastion.audit")
MAX_USER_AGENT = 256
AUDIT_KEY_SECRET = "audit-account-key"


class EventType(StrEnum):
    """What happened. The set is closed: every event bastion emits has one of these."""

    SIGN_UP = "sign_up"
    SIGN_IN = "sign_in"
    """A first factor: outcome ``success``, ``failure``, ``throttled`` or ``locked``."""
    FACTOR = "factor"
    """A second factor (``factor``: ``totp``, ``otp-email``, ``recovery-code``, ...); a used
    recovery code is this event with ``factor="recovery-code"``. ``expired``: the second
    factor's deadline passed and the session was ended."""
    DEVICE_CREATED = "device_created"
    """A factor's setup began (an unverified TOTP device)."""
    DEVICE_ADDED = "device_added"
    """A factor became usable (a TOTP device verified, an email or phone number added)."""
    DEVICE_REMOVED = "device_removed"
    RECOVERY_CODES_CREATED = "recovery_codes_created"
    STEP_UP_REQUIRED = "step_up_required"
    """A sensitive operation was refused for want of a recent second factor."""
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET_COMPLETED = "password_reset_completed"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_CHANGED = "email_changed"
    EMAIL_VERIFIED = "email_verified"
    SESSION_CREATED = "session_created"
    SESSION_REFRESHED = "session_refreshed"
    SESSION_REVOKED = "session_revoked"
    THEFT_DETECTED = "theft_detected"


class Outcome(StrEnum):
    """How it ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    THROTTLED = "throttled"
    LOCKED = "locked"
    REFUSED = "refused"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One authentication event. Fields that do not apply are None."""

    time_ms: int
    """When it happened (epoch milliseconds, from the app's clock)."""
    event: EventType
    outcome: Outcome
    user_id: str | None = None
    account: str | None = None
    """Keyed hash of the account identifier (the normalised email), only when the user is
    unknown."""
    client: str | None = None
    """The client's IP address (``X-Forwarded-For`` only from ``trusted_proxies``)."""
    user_agent: str | None = None
    """The ``User-Agent`` header, cut at 256 characters."""
    session_handle: str | None = None
    factor: str | None = None
    """The factor or login method involved (``emailpassword``, ``totp``, ...)."""
    reason: str | None = None
    """A short machine-readable detail (``wrong_code``, ``last_second_factor``, ...)."""

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-able values."""
        fields = asdict(self)
        fields["event"] = str(self.event)
        fields["outcome"] = str(self.outcome)
        return fields


AuditCallback = Callable[[AuditEvent], "Awaitable[None] | None"]
"""``audit_callback(event)`` of ``bastion.init``; it may be a coroutine function."""

_WARNINGS = {EventType.THEFT_DETECTED, EventType.STEP_UP_REQUIRED}


def request_of(user_context: dict[str, Any] | None) -> BaseRequest | None:
    """The request that ``user_context`` was made for, if any (bastion puts it there)."""
    if not user_context:
        return None
    found = user_context.get("_default", {}).get("request")
    return found if isinstance(found, BaseRequest) else None


class Auditor:
    """Builds and delivers the app's audit events (the app owns one: ``app.audit``)."""

    def __init__(
        self,
        *,
        clock: Clock,
        key: bytes,
        trusted_proxies: Sequence[IPNetwork],
        callback: AuditCallback | None,
    ) -> None:
        self._clock = clock
        self._key = key
        self._trusted_proxies = trusted_proxies
        self._callback = callback

    def account_key(self, identifier: str) -> str:
        """The keyed hash that stands for an account identifier in events."""
        data = identifier.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    async def emit(
        self,
        event: EventType,
        outcome: Outcome,
        *,
        request: BaseRequest | None = None,
        user_context: dict[str, Any] | None = None,
        user_id: str | None = None,
        account: str | None = None,
        session_handle: str | None = None,
        factor: str | None = None,
        reason: str | None = None,
    ) -> AuditEvent:
        """Record one event and return it.

        Args:
            request: where the client address, user agent and (unless given) session handle
                come from; by default the request ``user_context`` was made for.
            account: the account identifier the request named (a normalised email); kept,
                as a keyed hash, only when ``user_id`` is None.
        """
        request = request or request_of(user_context)
        agent = request.get_header("user-agent") if request is not None else None
        if session_handle is None and request is not None and request.state.session is not None:
            session_handle = request.state.session.get_handle()  # the request's own session
        record = AuditEvent(
            time_ms=self._clock.now_ms(),
            event=event,
            outcome=outcome,
            user_id=user_id,
            account=self.account_key(account) if account is not None and user_id is None else None,
            client=client_ip(request, self._trusted_proxies) if request is not None else None,
            user_agent=agent[:MAX_USER_AGENT] if agent else None,
            session_handle=session_handle,
            factor=factor,
            reason=reason,
        )
        level = logging.WARNING if event in _WARNINGS or outcome is Outcome.LOCKED else logging.INFO
        logger.log(level, "%s %s", record.event, record.outcome, extra=record.as_dict())
        if self._callback is not None:
            try:
                result = self._callback(record)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # A broken audit sink must not lock everybody out; it is loud instead.
                logging.getLogger("bastion").exception("audit_callback failed")
        return record
