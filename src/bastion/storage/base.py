"""The storage protocols.

Every method is a coroutine. Backends whose driver is synchronous (``sqlite3``) never suspend, so
the same logic also runs under :func:`bastion.bridge.run_sync` in sync frameworks.

Multi-step writes are single calls here, each one transaction in the backend; the decisions they
need are pure functions from :mod:`bastion.core`, so every backend makes them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bastion.core.attempts import AttemptDecision, AttemptPolicy, AttemptState
from bastion.core.keys import SigningKey

__all__ = [
    "MaintenanceStore",
    "CounterState",
    "CounterStore",
    "CredentialStore",
    "KeyStore",
    "LoginMethodRecord",
    "MFAStore",
    "PasswordCredential",
    "PasswordReset",
    "PasswordlessConsumeOutcome",
    "PasswordlessDeviceRecord",
    "PasswordlessStore",
    "RecoveryCodeRecord",
    "RecoveryCodeStore",
    "SessionRecord",
    "SessionStore",
    "Store",
    "TOTPDeviceRecord",
    "TOTPStore",
    "TokenRecord",
    "TokenStore",
    "UserRecord",
    "UserStore",
]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session row."""

    handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    access_payload: dict[str, Any]
    """Custom claims of the access token (``userDataInJWT``)."""
    session_data: dict[str, Any]
    """Server-side data (``userDataInDatabase``), never sent to the client."""
    current_hash2: str
    prev_hash2: str | None
    rotated_at_ms: int | None
    created_at_ms: int
    expires_at_ms: int


class SessionStore(Protocol):
    """Sessions and their refresh-token chain."""

    async def create_session(self, record: SessionRecord) -> None: ...

    async def get_session(self, handle: str) -> SessionRecord | None: ...

    async def swap_refresh_hash(
        self,
        handle: str,
        *,
        expected_current: str,
        new_current: str,
        new_prev: str | None,
        rotated_at_ms: int | None,
        expires_at_ms: int,
    ) -> bool:
        """Compare-and-swap the refresh columns; False if ``current`` moved meanwhile."""
        ...

    async def merge_access_payload(
        self, handle: str, update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge ``update`` into the stored payload in one transaction; None if no session."""
        ...

    async def update_session_data(self, handle: str, data: Mapping[str, Any]) -> bool: ...

    async def delete_sessions(self, handles: list[str]) -> list[str]:
        """Delete these sessions, returning the handles that existed."""
        ...

    async def list_session_handles(
        self, user_id: str, *, tenant_id: str | None, now_ms: int
    ) -> list[str]:
        """Handles of the user's unexpired sessions (in every tenant when ``tenant_id`` is None)."""
        ...


class KeyStore(Protocol):
    """Signing keys and server secrets."""

    async def list_signing_keys(self) -> list[SigningKey]: ...

    async def add_signing_key(self, key: SigningKey, *, slot: str, expired: list[str]) -> None:
        """Insert ``key`` unless ``slot`` is taken (another process won), and drop ``expired``."""
        ...

    async def update_signing_key_material(self, kid: str, private_pem: bytes) -> None:
        """Replace the stored private half of ``kid`` (re-sealed under a new encryption key)."""
        ...

    async def get_or_create_secret(self, name: str, candidate: bytes) -> bytes:
        """Return the secret called ``name``, storing ``candidate`` first if there is none."""
        ...


@dataclass(frozen=True, slots=True)
class LoginMethodRecord:
    """One way a user signs in (today: an email and password)."""

    recipe_id: str
    recipe_user_id: str
    tenant_id: str
    email: str | None
    time_joined_ms: int
    verified: bool
    """Whether ``email`` is verified for this login method."""
    phone_number: str | None = None
    """E.164 phone number (passwordless logins by SMS)."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and its login methods."""

    id: str
    time_joined_ms: int
    login_methods: tuple[LoginMethodRecord, ...]


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    """An email-password login method with its stored hash."""

    user_id: str
    recipe_user_id: str
    tenant_id: str
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A single-use token (password reset, email verification); only its hash is stored."""

    purpose: str
    user_id: str
    email_key: str
    """The normalised email the token was issued for."""
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class PasswordReset:
    """What :meth:`CredentialStore.reset_password_with_token` did."""

    recipe_user_id: str
    email_key: str
    """The normalised email the token was issued for (the login's current one)."""
    revoked_sessions: list[str]
    """Handles of the sessions deleted by the reset."""


@dataclass(frozen=True, slots=True)
class CounterState:
    """A throttling counter."""

    hits: int
    """Attempts in the current window."""
    consecutive: int
    """Attempts since the last reset, across windows."""
    window_start_ms: int


class UserStore(Protocol):
    """Users, their login methods and which of their emails are verified."""

    async def create_password_user(
        self,
        *,
        user_id: str,
        tenant_id: str,
        email: str,
        email_key: str,
        password_hash: str,
        now_ms: int,
    ) -> UserRecord | None:
        """Create a user with an email-password login, in one transaction.

        Returns None (and writes nothing) if the tenant already has that ``email_key``.
        """
        ...

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user whose id, or one of whose recipe user ids, is ``user_id``."""
        ...

    async def list_users_by_email(self, email_key: str, *, tenant_id: str) -> list[UserRecord]: ...

    async def list_users(
        self,
        *,
        tenant_id: str,
        newest_first: bool,
        limit: int,
        after: tuple[int, str] | None,
    ) -> list[UserRecord]:
        """A page of users ordered by ``(time_joined_ms, id)``, starting after ``after``."""
        ...

    async def count_users(self, *, tenant_id: str) -> int: ...

    async def delete_user(self, user_id: str) -> bool:
        """Delete the user, its login methods, tokens, verified emails and sessions at once."""
        ...

    async def set_email_verified(self, recipe_user_id: str, email_key: str, verified: bool) -> None:
        """Mark (or unmark) ``email_key`` as verified for ``recipe_user_id``."""
        ...

    async def is_email_verified(self, recipe_user_id: str, email_key: str) -> bool: ...


class CredentialStore(Protocol):
    """Email-password credentials."""

    async def get_password_credential(
        self, email_key: str, *, tenant_id: str
    ) -> PasswordCredential | None: ...

    async def get_password_credential_of_user(
        self, recipe_user_id: str
    ) -> PasswordCredential | None: ...

    async def replace_password_hash(
        self, recipe_user_id: str, new_hash: str, *, expected_hash: str
    ) -> bool:
        """Upgrade a hash (rehash on sign-in): only if the login still has ``expected_hash``,
        so an upgrade never undoes a concurrent password change."""
        ...

    async def update_password_login(
        self,
        recipe_user_id: str,
        *,
        email: tuple[str, str] | None = None,
        password_hash: str | None = None,
        drop_tokens: str | None = None,
    ) -> Literal["OK", "UNKNOWN_USER", "EMAIL_EXISTS"]:
        """Change the email (``(email, email_key)``) and/or the password hash, in one
        transaction. A new email drops the user's pending tokens for the old one; with a new
        password, the user's pending tokens of purpose ``drop_tokens`` are dropped too."""
        ...

    async def reset_password_with_token(
        self,
        token_hash: str,
        *,
        purpose: str,
        new_hash: str,
        now_ms: int,
        revoke_sessions: bool,
        mark_email_verified: bool,
        clear_counter: tuple[str, str] | None = None,
    ) -> PasswordReset | None:
        """Complete a password reset in one transaction: all of it, or (a crash, a stale
        token) none of it.

        The live token must still name the login's current email. In the same transaction:
        the password is set and every reset token of the user is dropped; with
        ``revoke_sessions``, every session of the user is deleted, with the second-factor and
        setup codes bound to sessions; with ``mark_email_verified``, the token's email is marked
        verified (the link proved the mailbox); the throttling counter ``clear_counter``
        (``(name, stored key)``: the sign-in lock) is deleted. None if the token is not valid.
        """
        ...


class TokenStore(Protocol):
    """Single-use tokens, kept only as hashes."""

    async def add_token(
        self,
        token_hash: str,
        *,
        purpose: str,
        user_id: str,
        email_key: str,
        expires_at_ms: int,
        now_ms: int,
    ) -> None:
        """Store a token (and drop the user's expired ones)."""
        ...

    async def find_token(self, token_hash: str, *, purpose: str, now_ms: int) -> TokenRecord | None:
        """The live token with this hash, without using it up."""
        ...

    async def consume_token(
        self, token_hash: str, *, purpose: str, now_ms: int
    ) -> TokenRecord | None:
        """Use up a live token: it and the user's other tokens of ``purpose`` for the same
        email are deleted. None if it does not exist, has expired or was used."""
        ...

    async def delete_tokens(self, user_id: str, *, purpose: str | None = None) -> int: ...


class CounterStore(Protocol):
    """Throttling counters, each keyed by ``(name, key)``; every call is atomic."""

    async def take_counter(
        self,
        name: str,
        key: str,
        *,
        now_ms: int,
        window_ms: int,
        max_hits: int,
        max_consecutive: int | None,
    ) -> tuple[bool, CounterState]:
        """Count one attempt unless the window already has ``max_hits`` or the counter has
        reached ``max_consecutive``; a window older than ``window_ms`` starts afresh.

        Returns whether the attempt was counted, and the counter's state.
        """
        ...

    async def get_counter(self, name: str, key: str) -> CounterState | None: ...

    async def refund_counter(self, name: str, key: str) -> None:
        """Take back one attempt (an attempt that turned out not to be a failure)."""
        ...

    async def clear_counter(self, name: str, key: str) -> None: ...


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
        changed) when a verified device has that name."""
        ...

    async def list_totp_devices(self, user_id: str) -> list[TOTPDeviceRecord]: ...

    async def remove_totp_device(self, user_id: str, name: str) -> bool: ...

    async def accept_totp_step(self, device_id: str, step: int, *, mark_verified: bool) -> bool:
        """Record ``step`` as used, unless this or a later step already was (then False: a
        replay). In the same transaction: mark the device verified if asked, and reset the
        user's failed attempts."""
        ...

    async def reseal_totp_secrets(self, reseal: Callable[[TOTPDeviceRecord], str]) -> int:
        """Store ``reseal(device)`` as each device's secret where it changed; returns how many."""
        ...


class MFAStore(Protocol):
    """Failed second-factor attempts (per user) and required secondary factors."""

    async def begin_factor_attempt(
        self, user_id: str, *, now_ms: int, policy: AttemptPolicy, honour_hard_lock: bool
    ) -> AttemptDecision:
        """Apply :func:`bastion.core.attempts.begin_attempt` in one transaction: an allowed
        attempt is stored as a failure before its code is checked."""
        ...

    async def get_factor_attempts(self, user_id: str) -> AttemptState: ...

    async def reset_factor_attempts(self, user_id: str) -> None: ...

    async def add_required_factor(self, scope: str, subject: str, factor_id: str) -> bool:
        """``scope`` is ``"user"`` (subject: a user id) or ``"app"`` (subject: ``""``)."""
        ...

    async def remove_required_factor(self, scope: str, subject: str, factor_id: str) -> bool: ...

    async def list_required_factors(self, scope: str, subject: str) -> list[str]: ...

    async def delete_mfa_data(self, user_id: str) -> None:
        """Remove the user's TOTP devices, recovery codes, attempt counter and required
        factors, in one transaction (the user is being deleted)."""
        ...


class RecoveryCodeStore(Protocol):
    """Recovery codes, kept as salted slow hashes."""

    async def replace_recovery_codes(self, user_id: str, codes: list[RecoveryCodeRecord]) -> None:
        """Drop the user's codes and store ``codes`` instead, in one transaction."""
        ...

    async def list_recovery_codes(self, user_id: str) -> list[RecoveryCodeRecord]: ...

    async def use_recovery_code(
        self, user_id: str, code_id: str, code_hash: str, *, now_ms: int, reset_attempts: bool
    ) -> bool:
        """Mark the code used if it is still unused and still has ``code_hash``; False
        otherwise. In the same transaction, with ``reset_attempts`` the user's failed attempts
        (and a hard lock) are cleared; without, this attempt's advance failure is taken back."""
        ...


@dataclass(frozen=True, slots=True)
class PasswordlessDeviceRecord:
    """A passwordless login attempt and its one live code; only keyed hashes are stored."""

    pre_auth_session_id: str
    """base64url(SHA-256(device id)); the device id itself is never stored."""
    tenant_id: str
    email: str | None
    email_key: str | None
    phone_number: str | None
    purpose: Literal["signinup", "factor", "setup"]
    """``signinup``: a first factor. ``factor``: a challenge for ``session_handle``, whose user
    has the contact. ``setup``: adds the contact to the user of ``session_handle``."""
    user_id: str | None
    session_handle: str | None
    code_id: str
    code_hash: str
    link_code_hash: str
    failed_attempts: int
    created_at_ms: int
    code_created_at_ms: int
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class PasswordlessConsumeOutcome:
    """What :meth:`PasswordlessStore.consume_passwordless_code` did."""

    status: Literal["OK", "INCORRECT_CODE", "EXPIRED_CODE", "RESTART", "CONTACT_TAKEN"]
    failed_attempts: int = 0
    """Failed attempts on the device, this one included (``INCORRECT_CODE``/``EXPIRED_CODE``)."""
    device: PasswordlessDeviceRecord | None = None
    user_id: str | None = None
    """The user signed in (``signinup``) or holding the session (``factor``/``setup``)."""
    created_login_method: bool = False


class PasswordlessStore(Protocol):
    """Passwordless devices (login attempts) and the users they sign in."""

    async def add_passwordless_device(
        self, device: PasswordlessDeviceRecord, *, purge_expired_before_ms: int
    ) -> None:
        """Store a new device, dropping devices whose code expired before the given time."""
        ...

    async def get_passwordless_device(
        self, pre_auth_session_id: str
    ) -> PasswordlessDeviceRecord | None: ...

    async def list_passwordless_devices(
        self,
        *,
        tenant_id: str,
        email_key: str | None = None,
        phone_number: str | None = None,
    ) -> list[PasswordlessDeviceRecord]:
        """Devices for one email (by key) or one phone number, oldest first."""
        ...

    async def replace_passwordless_code(
        self,
        pre_auth_session_id: str,
        *,
        code_id: str,
        code_hash: str,
        link_code_hash: str,
        now_ms: int,
        expires_at_ms: int,
    ) -> PasswordlessDeviceRecord | None:
        """Give the device a new code (the previous one stops working); failed attempts are
        kept. None if the device is gone."""
        ...

    async def consume_passwordless_code(
        self,
        pre_auth_session_id: str,
        *,
        code_hash: str | None,
        link_code_hash: str | None,
        session_handle: str | None,
        max_attempts: int,
        now_ms: int,
        new_user_id: str,
    ) -> PasswordlessConsumeOutcome:
        """Check a user input code (``code_hash``) or a link code, in one transaction.

        The device must be bound to ``session_handle`` (None for ``signinup``), else RESTART
        and nothing changes. A user input code counts as a failed attempt *before* it is
        compared, so parallel guesses cannot pass ``max_attempts``; the last allowed failure
        deletes the device (RESTART). On success the device is deleted and, by purpose: the
        user with a passwordless login for the contact is found or created (``new_user_id``);
        the contact is checked to still belong to the session's user; or it is added to that
        user (CONTACT_TAKEN if another user has it). A proven email is marked verified.
        """
        ...

    async def delete_passwordless_devices(
        self,
        *,
        tenant_id: str | None = None,
        email_key: str | None = None,
        phone_number: str | None = None,
        user_id: str | None = None,
        code_id: str | None = None,
    ) -> int:
        """Delete the devices matching every given filter (at least one); returns how many."""
        ...

    async def get_or_create_passwordless_user(
        self,
        *,
        tenant_id: str,
        email: str | None,
        email_key: str | None,
        phone_number: str | None,
        new_user_id: str,
        now_ms: int,
    ) -> tuple[UserRecord, bool]:
        """The user with a passwordless login for this email or phone number, created (with
        ``new_user_id``) if there is none; and whether it was created."""
        ...

    async def list_users_by_phone_number(
        self, phone_number: str, *, tenant_id: str
    ) -> list[UserRecord]: ...


class MaintenanceStore(Protocol):
    """Housekeeping that no request does."""

    async def delete_expired(self, now_ms: int) -> dict[str, int]:
        """Delete rows whose lifetime is over (sessions, one-time tokens, login codes), in one
        transaction; returns how many went, per table."""
        ...


class Store(
    SessionStore,
    KeyStore,
    UserStore,
    CredentialStore,
    TokenStore,
    CounterStore,
    TOTPStore,
    MFAStore,
    RecoveryCodeStore,
    PasswordlessStore,
    MaintenanceStore,
    Protocol,
):
    """Everything bastion keeps."""

    def close(self) -> None: ...
