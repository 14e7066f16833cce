"""Which code a request gets: a sign-in, a second-factor challenge, or a factor setup.

The rules (also in ``docs/mfa.md``), with ``flag`` the body's ``shouldTryLinkingWithSessionUser``:

1. ``flag`` false: a sign-in; any session on the request is ignored (spec 11.17).
2. ``flag`` true: a session is required (401 otherwise) and the code is for its user.

   - The typed email or phone number is one the user has (emails compared case-insensitively):
     a *challenge*. The code goes to the address on file and completes ``otp-email`` (or
     ``link-email``, ``*-phone``) in this session only.
   - The user has another address of that kind: refused (``SIGN_IN_UP_NOT_ALLOWED``). Someone
     holding only the first factor cannot have the second-factor code sent to an address of
     their choosing.
   - The user has no address of that kind: a *setup*. It needs the MFA recipe and passes its
     setup guard (403 ``st-mfa`` otherwise); the address must not belong to another user.
     Consuming the code adds the address to the user as a passwordless login.

3. ``flag`` absent: a challenge if the request has a valid session that owes this factor (its
   ``st-mfa`` is unsatisfied with the factor among the next ones) and the typed address is the
   user's; otherwise a sign-in, as in 1 (a stale or foreign session never blocks a sign-in).

A sign-in must be an allowed first factor of the MFA recipe. A challenge or setup code is bound
to the session's handle: it completes nothing for another session, nor is a sign-in code
accepted for a session (the consume answers ``RESTART_FLOW_ERROR``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.errors import InvalidClaimsError, SessionError, UnauthorisedError
from bastion.http.types import BaseRequest
from bastion.recipe.passwordless.contact import (
    RECIPE_ID,
    Contact,
    contact_on_file,
    phone_numbers,
    real_emails,
)
from bastion.recipe.passwordless.interfaces import CodeBinding, Purpose
from bastion.sessions.request_flow import get_session_from_request
from bastion.storage.base import UserRecord
from bastion.users.emails import email_key

if TYPE_CHECKING:
    from bastion.recipe.passwordless.recipe import PasswordlessRecipe
    from bastion.sessions.container import SessionContainer

__all__ = [
    "CodePlan",
    "NotAllowed",
    "assert_may_set_up",
    "first_factor_allowed",
    "passwordless_user",
    "plan_code",
    "required_session",
    "session_for_request",
]

FIRST_FACTOR_REFUSED = (
    "Cannot sign in / up due to security reasons. Please try a different login method or "
    "contact support. (ERR_CODE_002)"
)
NOT_ON_FILE = (
    "Cannot send the code there: a second factor must use an email address or phone number "
    "of the signed-in account."
)
TAKEN = "Cannot add this email address or phone number: it belongs to another account."
UNKNOWN_USER = (
    "Cannot send a code: the signed-in user has no account here with an email address or "
    "phone number."
)
NO_SETUP_WITHOUT_MFA = (
    "Cannot add an email address or phone number here without multi-factor auth enabled."
)


@dataclass(frozen=True, slots=True)
class CodePlan:
    """Where a code goes and what it is bound to."""

    contact: Contact
    binding: CodeBinding | None

    @property
    def purpose(self) -> Purpose:
        return self.binding.purpose if self.binding is not None else "signinup"


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """``SIGN_IN_UP_NOT_ALLOWED`` with its reason."""

    reason: str

    def body(self) -> dict[str, Any]:
        return {"status": "SIGN_IN_UP_NOT_ALLOWED", "reason": self.reason}


def _no_claims(validators: Any, session: Any, user_context: Any) -> list[Any]:
    return []


async def required_session(
    recipe: PasswordlessRecipe, request: BaseRequest, user_context: dict[str, Any]
) -> SessionContainer:
    """The request's session, checked against the database, claims not checked (401s as usual;
    also when it owes a factor past the MFA recipe's second-factor deadline)."""
    session = await get_session_from_request(
        request,
        check_database=True,
        override_global_claim_validators=_no_claims,
        user_context=user_context,
    )
    if session is None:  # pragma: no cover - session_required raises instead
        raise UnauthorisedError("Session does not exist", clear_tokens=False)
    mfa = recipe.mfa()
    if mfa is not None:
        await mfa.check_second_factor_deadline(session, user_context)
    return session


async def session_for_request(
    recipe: PasswordlessRecipe,
    request: BaseRequest,
    flag: bool | None,
    user_context: dict[str, Any],
) -> SessionContainer | None:
    """The session a ``/signinup/code`` request speaks for, by its linking ``flag``.

    True: required (401 without). Absent: a missing, expired or revoked session (or one past
    its second-factor deadline) is simply none, since it must not stop anyone from signing in.
    False: ignored.
    """
    if flag is True:
        return await required_session(recipe, request, user_context)
    if flag is False:
        return None
    try:
        session = await get_session_from_request(
            request,
            session_required=False,
            check_database=True,
            override_global_claim_validators=_no_claims,
            user_context=user_context,
        )
        mfa = recipe.mfa()
        if session is not None and mfa is not None:
            await mfa.check_second_factor_deadline(session, user_context)
    except SessionError:
        return None
    return session


def factors_for(recipe: PasswordlessRecipe, contact: Contact) -> list[str]:
    """The factors offered for this kind of contact (``otp-email``, ``link-email``)."""
    return [f for f in recipe.factor_ids if f.endswith("-" + contact.kind)]


def first_factor_allowed(recipe: PasswordlessRecipe, factor_ids: list[str]) -> bool:
    mfa = recipe.mfa()
    allowed = getattr(mfa, "first_factors", None) if mfa is not None else None
    return allowed is None or any(f in allowed for f in factor_ids)


async def passwordless_user(
    recipe: PasswordlessRecipe, contact: Contact, tenant_id: str
) -> UserRecord | None:
    """The user with a passwordless login for ``contact``, if any."""
    store = recipe.app.store
    if contact.email is not None:
        key = email_key(contact.email)
        users = await store.list_users_by_email(key, tenant_id=tenant_id)
        for user in users:
            for method in user.login_methods:
                if (
                    method.recipe_id == RECIPE_ID
                    and method.email
                    and email_key(method.email) == key
                ):
                    return user
        return None
    users = await store.list_users_by_phone_number(str(contact.phone_number), tenant_id=tenant_id)
    for user in users:
        if any(
            m.recipe_id == RECIPE_ID and m.phone_number == contact.phone_number
            for m in user.login_methods
        ):
            return user
    return None


async def _held_by_another(
    recipe: PasswordlessRecipe, contact: Contact, user_id: str, tenant_id: str
) -> bool:
    store = recipe.app.store
    if contact.email is not None:
        users = await store.list_users_by_email(email_key(contact.email), tenant_id=tenant_id)
    else:
        users = await store.list_users_by_phone_number(
            str(contact.phone_number), tenant_id=tenant_id
        )
    return any(u.id != user_id for u in users)


async def assert_may_set_up(
    mfa: Any, session: SessionContainer, factor_ids: list[str], user_context: dict[str, Any]
) -> None:
    """The MFA setup guard for any of ``factor_ids`` (403 ``st-mfa`` if none may be set up)."""
    guard = mfa.recipe_implementation.assert_allowed_to_setup_factor_else_throw_invalid_claim_error
    refusal: InvalidClaimsError | None = None
    for factor in factor_ids:
        try:
            await guard(session, factor, user_context)
        except InvalidClaimsError as exc:
            refusal = exc
            continue
        return
    if refusal is not None:
        raise refusal


async def _owes_factor(
    recipe: PasswordlessRecipe,
    session: SessionContainer,
    factor_ids: list[str],
    user_context: dict[str, Any],
) -> bool:
    """Whether the session's next MFA step includes one of ``factor_ids``."""
    mfa = recipe.mfa()
    if mfa is None:
        return False
    _, state = await mfa.compute_claim_value(
        session.get_user_id(),
        session.get_tenant_id(),
        session.get_access_token_payload(),
        None,
        user_context,
    )
    return not state.is_satisfied and any(f in state.next_factors for f in factor_ids)


async def _for_session(
    recipe: PasswordlessRecipe,
    session: SessionContainer,
    user: UserRecord | None,
    contact: Contact,
    user_context: dict[str, Any],
) -> CodePlan | NotAllowed:
    """Rule 2: the session's user asked for a code (``shouldTryLinkingWithSessionUser``)."""
    if user is None:
        return NotAllowed(UNKNOWN_USER)  # a user the app keeps itself: no address on file
    handle = session.get_handle()
    on_file = contact_on_file(user, contact)
    if on_file is not None:
        return CodePlan(on_file, CodeBinding("factor", user.id, handle))
    has_kind = real_emails(user) if contact.email is not None else phone_numbers(user)
    if has_kind:
        return NotAllowed(NOT_ON_FILE)
    mfa = recipe.mfa()
    if mfa is None:
        return NotAllowed(NO_SETUP_WITHOUT_MFA)
    await assert_may_set_up(mfa, session, factors_for(recipe, contact), user_context)
    if await _held_by_another(recipe, contact, user.id, session.get_tenant_id()):
        return NotAllowed(TAKEN)
    return CodePlan(contact, CodeBinding("setup", user.id, handle))


async def plan_code(
    recipe: PasswordlessRecipe,
    contact: Contact,
    session: SessionContainer | None,
    flag: bool | None,
    tenant_id: str,
    user_context: dict[str, Any],
) -> CodePlan | NotAllowed:
    """Apply the module's rules to a ``/signinup/code`` request."""
    factors = factors_for(recipe, contact)
    if session is not None:
        user = await recipe.app.store.get_user(session.get_user_id())
        if flag is True:
            return await _for_session(recipe, session, user, contact, user_context)
        on_file = contact_on_file(user, contact)
        if (
            user is not None
            and on_file is not None
            and await _owes_factor(recipe, session, factors, user_context)
        ):
            return CodePlan(on_file, CodeBinding("factor", user.id, session.get_handle()))
    if not first_factor_allowed(recipe, factors):
        return NotAllowed(FIRST_FACTOR_REFUSED)
    existing = await passwordless_user(recipe, contact, tenant_id)
    return CodePlan(contact_on_file(existing, contact) or contact, None)
