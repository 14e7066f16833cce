"""Session functions for async code. :mod:`bastion.recipe.session.syncio` has the same ones."""

from __future__ import annotations

from typing import Any

from bastion.bridge import maybe_await
from bastion.http.types import BaseRequest
from bastion.recipe.session.interfaces import (
    ClaimsValidationResult,
    GetClaimValueOkResult,
    OverrideGlobalValidators,
    SessionDoesNotExistError,
    SessionInformationResult,
)
from bastion.runtime import current_app
from bastion.sessions.claims import SessionClaim
from bastion.sessions.container import SessionContainer
from bastion.sessions.request_flow import (
    create_session_in_request,
    get_session_from_request,
    refresh_session_in_request,
)
from bastion.sessions.sensitive import verify_sensitive_operation as _verify_sensitive
from bastion.sessions.validation import refetch_claims, run_validators

__all__ = [
    "create_new_session",
    "create_new_session_without_request_response",
    "fetch_and_set_claim",
    "get_all_session_handles_for_user",
    "get_claim_value",
    "get_session",
    "get_session_information",
    "merge_into_access_token_payload",
    "refresh_session",
    "remove_claim",
    "revoke_all_sessions_for_user",
    "revoke_multiple_sessions",
    "revoke_session",
    "set_claim_value",
    "update_session_data_in_database",
    "validate_claims_for_session_handle",
    "verify_sensitive_operation",
]


def _impl() -> Any:
    return current_app().session_recipe.recipe_implementation


def _ctx(user_context: dict[str, Any] | None) -> dict[str, Any]:
    return {} if user_context is None else user_context


def _request(request: Any) -> BaseRequest:
    from bastion.framework.wrap import wrap_request

    return wrap_request(request)


async def create_new_session(
    request: Any,
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    session_data_in_database: dict[str, Any] | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    tenant_id: str = "public",
) -> SessionContainer:
    """Create a session for ``user_id``; its tokens go out on the response to ``request``."""
    return await create_session_in_request(
        _request(request),
        user_id,
        access_token_payload,
        session_data_in_database,
        user_context,
        tenant_id=tenant_id,
    )


async def create_new_session_without_request_response(
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    session_data_in_database: dict[str, Any] | None = None,
    disable_anti_csrf: bool = False,
    user_context: dict[str, Any] | None = None,
    *,
    tenant_id: str = "public",
) -> SessionContainer:
    """Create a session and return it with its tokens (``get_all_session_tokens_dangerously``)."""
    session: SessionContainer = await _impl().create_new_session(
        user_id,
        access_token_payload,
        session_data_in_database,
        disable_anti_csrf,
        _ctx(user_context),
        tenant_id=tenant_id,
    )
    return session


async def get_session(
    request: Any,
    session_required: bool | None = None,
    anti_csrf_check: bool | None = None,
    check_database: bool | None = None,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> SessionContainer | None:
    """The request's verified session; raises a session error (401/403) or returns None."""
    return await get_session_from_request(
        _request(request),
        session_required=True if session_required is None else session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=bool(check_database),
        override_global_claim_validators=override_global_claim_validators,
        user_context=user_context,
    )


async def refresh_session(
    request: Any, user_context: dict[str, Any] | None = None
) -> SessionContainer:
    """Rotate the request's refresh token (what ``POST /auth/session/refresh`` does)."""
    return await refresh_session_in_request(_request(request), user_context)


async def revoke_session(session_handle: str, user_context: dict[str, Any] | None = None) -> bool:
    """Revoke one session; True if it existed."""
    result: bool = await _impl().revoke_session(session_handle, _ctx(user_context))
    return result


async def revoke_multiple_sessions(
    session_handles: list[str], user_context: dict[str, Any] | None = None
) -> list[str]:
    """Revoke several sessions; returns those that existed."""
    result: list[str] = await current_app().store.delete_sessions(list(session_handles))
    return result


async def revoke_all_sessions_for_user(
    user_id: str,
    revoke_sessions_for_linked_accounts: bool = True,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> list[str]:
    """Revoke every session of ``user_id`` (in every tenant when ``tenant_id`` is None)."""
    result: list[str] = await _impl().revoke_all_sessions_for_user(
        user_id, tenant_id, _ctx(user_context)
    )
    return result


async def get_all_session_handles_for_user(
    user_id: str,
    fetch_sessions_for_linked_accounts: bool = True,
    tenant_id: str | None = None,
    user_context: dict[str, Any] | None = None,
) -> list[str]:
    """Handles of the user's live sessions."""
    result: list[str] = await _impl().get_all_session_handles_for_user(
        user_id, tenant_id, _ctx(user_context)
    )
    return result


async def get_session_information(
    session_handle: str, user_context: dict[str, Any] | None = None
) -> SessionInformationResult | None:
    """What storage knows about a session, or None if it does not exist."""
    result: SessionInformationResult | None = await _impl().get_session_information(
        session_handle, _ctx(user_context)
    )
    return result


async def update_session_data_in_database(
    session_handle: str,
    new_session_data: dict[str, Any],
    user_context: dict[str, Any] | None = None,
) -> bool:
    """Replace a session's server-side data; False if it does not exist."""
    result: bool = await _impl().update_session_data_in_database(
        session_handle, new_session_data, _ctx(user_context)
    )
    return result


async def merge_into_access_token_payload(
    session_handle: str,
    access_token_payload_update: dict[str, Any],
    user_context: dict[str, Any] | None = None,
) -> bool:
    """Merge into the stored payload; live tokens carry it from their next refresh."""
    result: bool = await _impl().merge_into_access_token_payload(
        session_handle, access_token_payload_update, _ctx(user_context)
    )
    return result


async def fetch_and_set_claim(
    session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
) -> bool:
    info = await get_session_information(session_handle, user_context)
    if info is None:
        return False
    update = await claim.build(
        info.user_id,
        _ctx(user_context),
        recipe_user_id=info.recipe_user_id,
        tenant_id=info.tenant_id,
        current_payload=info.custom_claims_in_access_token_payload,
    )
    return await merge_into_access_token_payload(session_handle, update, user_context)


async def set_claim_value(
    session_handle: str,
    claim: SessionClaim[Any],
    value: Any,
    user_context: dict[str, Any] | None = None,
) -> bool:
    update = claim.add_to_payload_({}, value, user_context)
    return await merge_into_access_token_payload(session_handle, update, user_context)


async def get_claim_value(
    session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
) -> SessionDoesNotExistError | GetClaimValueOkResult:
    info = await get_session_information(session_handle, user_context)
    if info is None:
        return SessionDoesNotExistError()
    return GetClaimValueOkResult(
        claim.get_value_from_payload(info.custom_claims_in_access_token_payload, user_context)
    )


async def remove_claim(
    session_handle: str, claim: SessionClaim[Any], user_context: dict[str, Any] | None = None
) -> bool:
    update = claim.remove_from_payload_by_merge_({}, user_context)
    return await merge_into_access_token_payload(session_handle, update, user_context)


async def validate_claims_for_session_handle(
    session_handle: str,
    override_global_claim_validators: OverrideGlobalValidators | None = None,
    user_context: dict[str, Any] | None = None,
) -> SessionDoesNotExistError | ClaimsValidationResult:
    """Run the global (or overridden) validators against a stored session's payload.

    Values that validators ask to refetch are written to storage (DB only).
    """
    context = _ctx(user_context)
    recipe = current_app().session_recipe
    info = await get_session_information(session_handle, context)
    if info is None:
        return SessionDoesNotExistError()
    validators = await recipe.recipe_implementation.get_global_claim_validators(
        info.user_id, list(recipe.claim_validators_added_by_other_recipes), context
    )
    if override_global_claim_validators is not None:
        validators = await maybe_await(override_global_claim_validators(validators, None, context))  # type: ignore[arg-type]
    payload = dict(info.custom_claims_in_access_token_payload)
    update = await refetch_claims(
        validators,
        payload,
        user_id=info.user_id,
        recipe_user_id=info.recipe_user_id,
        tenant_id=info.tenant_id,
        user_context=context,
    )
    if update and not await merge_into_access_token_payload(session_handle, update, context):
        return SessionDoesNotExistError()
    return ClaimsValidationResult(await run_validators(validators, payload, context))


async def verify_sensitive_operation(
    session: SessionContainer, user_context: dict[str, Any] | None = None
) -> None:
    """Call before a sensitive operation of your own (changing the email or the password,
    removing something that protects the account); it returns or raises.

    The session must still exist in the database (else 401, even on another process), and a
    user who has a second factor must have completed one within the MFA recipe's
    ``step_up_max_age_seconds`` (else 403 ``st-mfa`` with an RFC 9470 challenge; the frontend
    asks for the factor again). See ``docs/mfa.md``.

    Raises:
        UnauthorisedError: the session was revoked or has expired.
        InvalidClaimsError: a recent second factor is needed.
    """
    await _verify_sensitive(current_app(), session, _ctx(user_context))
