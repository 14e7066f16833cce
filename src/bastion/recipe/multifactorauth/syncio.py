"""MFA functions for synchronous code: the functions of
:mod:`bastion.recipe.multifactorauth.asyncio`, driven without an event loop."""

from bastion.bridge import syncify
from bastion.recipe.multifactorauth import asyncio as _async

__all__ = [
    "add_to_required_secondary_factors_for_app",
    "add_to_required_secondary_factors_for_user",
    "assert_allowed_to_setup_factor_else_throw_invalid_claim_error",
    "generate_recovery_codes",
    "get_factors_setup_for_user",
    "get_mfa_requirements_for_auth",
    "get_recovery_codes_remaining",
    "get_required_secondary_factors_for_app",
    "get_required_secondary_factors_for_user",
    "mark_factor_as_complete_in_session",
    "remove_from_required_secondary_factors_for_app",
    "remove_from_required_secondary_factors_for_user",
]

add_to_required_secondary_factors_for_app = syncify(
    _async.add_to_required_secondary_factors_for_app
)
add_to_required_secondary_factors_for_user = syncify(
    _async.add_to_required_secondary_factors_for_user
)
assert_allowed_to_setup_factor_else_throw_invalid_claim_error = syncify(
    _async.assert_allowed_to_setup_factor_else_throw_invalid_claim_error
)
generate_recovery_codes = syncify(_async.generate_recovery_codes)
get_factors_setup_for_user = syncify(_async.get_factors_setup_for_user)
get_mfa_requirements_for_auth = syncify(_async.get_mfa_requirements_for_auth)
get_recovery_codes_remaining = syncify(_async.get_recovery_codes_remaining)
get_required_secondary_factors_for_app = syncify(_async.get_required_secondary_factors_for_app)
get_required_secondary_factors_for_user = syncify(_async.get_required_secondary_factors_for_user)
mark_factor_as_complete_in_session = syncify(_async.mark_factor_as_complete_in_session)
remove_from_required_secondary_factors_for_app = syncify(
    _async.remove_from_required_secondary_factors_for_app
)
remove_from_required_secondary_factors_for_user = syncify(
    _async.remove_from_required_secondary_factors_for_user
)
