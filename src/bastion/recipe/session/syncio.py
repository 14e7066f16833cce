"""Session functions for synchronous code: the same functions as
:mod:`bastion.recipe.session.asyncio`, driven without an event loop (see
:mod:`bastion.bridge`)."""

from bastion.bridge import syncify
from bastion.recipe.session import asyncio as _async

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

create_new_session = syncify(_async.create_new_session)
create_new_session_without_request_response = syncify(
    _async.create_new_session_without_request_response
)
fetch_and_set_claim = syncify(_async.fetch_and_set_claim)
get_all_session_handles_for_user = syncify(_async.get_all_session_handles_for_user)
get_claim_value = syncify(_async.get_claim_value)
get_session = syncify(_async.get_session)
get_session_information = syncify(_async.get_session_information)
merge_into_access_token_payload = syncify(_async.merge_into_access_token_payload)
refresh_session = syncify(_async.refresh_session)
remove_claim = syncify(_async.remove_claim)
revoke_all_sessions_for_user = syncify(_async.revoke_all_sessions_for_user)
revoke_multiple_sessions = syncify(_async.revoke_multiple_sessions)
revoke_session = syncify(_async.revoke_session)
set_claim_value = syncify(_async.set_claim_value)
update_session_data_in_database = syncify(_async.update_session_data_in_database)
validate_claims_for_session_handle = syncify(_async.validate_claims_for_session_handle)
verify_sensitive_operation = syncify(_async.verify_sensitive_operation)
