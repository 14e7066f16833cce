"""The email-password recipe's override surfaces and result types.

``RecipeInterface`` is the data layer (what ``override.functions`` receives), ``APIInterface``
the HTTP layer (``override.apis``). Overrides may replace any method on the instance they are
given, keeping a reference to the original, as with the session recipe.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bastion.recipe.emailpassword.forms import FormField
from bastion.users.model import User

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.http.types import BaseRequest
    from bastion.recipe.emailpassword.config import EmailPasswordConfig
    from bastion.recipe.emailpassword.recipe import EmailPasswordRecipe

__all__ = [
    "APIInterface",
    "APIOptions",
    "CreateResetPasswordOkResult",
    "EmailAlreadyExistsError",
    "PasswordPolicyViolationError",
    "RecipeInterface",
    "ResetPasswordInvalidTokenError",
    "ResetPasswordOkResult",
    "SignInOkResult",
    "SignUpOkResult",
    "UnknownUserIdError",
    "UpdateEmailOrPasswordOkResult",
    "WrongCredentialsError",
]


@dataclass(frozen=True, slots=True)
class SignUpOkResult:
    user: User
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class SignInOkResult:
    user: User
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class EmailAlreadyExistsError:
    status: Literal["EMAIL_ALREADY_EXISTS_ERROR"] = "EMAIL_ALREADY_EXISTS_ERROR"


@dataclass(frozen=True, slots=True)
class WrongCredentialsError:
    status: Literal["WRONG_CREDENTIALS_ERROR"] = "WRONG_CREDENTIALS_ERROR"


@dataclass(frozen=True, slots=True)
class UnknownUserIdError:
    status: Literal["UNKNOWN_USER_ID_ERROR"] = "UNKNOWN_USER_ID_ERROR"


@dataclass(frozen=True, slots=True)
class CreateResetPasswordOkResult:
    token: str
    """The token itself; only its hash is stored, so this is the one chance to read it."""
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class ResetPasswordOkResult:
    user_id: str
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class ResetPasswordInvalidTokenError:
    status: Literal["RESET_PASSWORD_INVALID_TOKEN_ERROR"] = "RESET_PASSWORD_INVALID_TOKEN_ERROR"


@dataclass(frozen=True, slots=True)
class UpdateEmailOrPasswordOkResult:
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class PasswordPolicyViolationError:
    failure_reason: str
    status: Literal["PASSWORD_POLICY_VIOLATED_ERROR"] = "PASSWORD_POLICY_VIOLATED_ERROR"


class RecipeInterface(ABC):
    """The recipe's functions; ``override.functions`` receives an instance."""

    @abstractmethod
    async def sign_up(
        self, email: str, password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> SignUpOkResult | EmailAlreadyExistsError:
        """Create a user (no session)."""

    @abstractmethod
    async def sign_in(
        self, email: str, password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> SignInOkResult | WrongCredentialsError:
        """Check the credentials (no session, no throttling: the API adds those).

        Unknown emails cost one hash too, so they cannot be told apart by time.
        """

    @abstractmethod
    async def create_reset_password_token(
        self, user_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> CreateResetPasswordOkResult | UnknownUserIdError:
        """A single-use reset token for the user's current email."""

    @abstractmethod
    async def reset_password_using_token(
        self, token: str, new_password: str, tenant_id: str, user_context: dict[str, Any]
    ) -> ResetPasswordOkResult | ResetPasswordInvalidTokenError:
        """Use up a reset token and set the password (no policy check here)."""

    @abstractmethod
    async def update_email_or_password(
        self,
        recipe_user_id: str,
        email: str | None,
        password: str | None,
        apply_password_policy: bool | None,
        tenant_id_for_password_policy: str,
        user_context: dict[str, Any],
    ) -> (
        UpdateEmailOrPasswordOkResult
        | UnknownUserIdError
        | EmailAlreadyExistsError
        | PasswordPolicyViolationError
    ):
        """Change the user's email and/or password."""


@dataclass(slots=True)
class APIOptions:
    """What an API implementation gets along with the request."""

    request: BaseRequest
    config: EmailPasswordConfig
    recipe_implementation: RecipeInterface
    recipe: EmailPasswordRecipe
    app: Bastion


class APIInterface(ABC):
    """The recipe's HTTP endpoints; ``override.apis`` receives an instance.

    Each returns the JSON body of an HTTP 200 answer; a ``disable_*`` flag set to True lets the
    request fall through to the app.
    """

    def __init__(self) -> None:
        self.disable_sign_up_post = False
        self.disable_sign_in_post = False
        self.disable_email_exists_get = False
        self.disable_generate_password_reset_token_post = False
        self.disable_password_reset_post = False

    @abstractmethod
    async def sign_up_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /signup``: create the user and a session."""

    @abstractmethod
    async def sign_in_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /signin``: throttle, check the credentials, create a session."""

    @abstractmethod
    async def email_exists_get(
        self, email: str, tenant_id: str, api_options: APIOptions, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """``GET /emailpassword/email/exists``."""

    @abstractmethod
    async def generate_password_reset_token_post(
        self,
        form_fields: list[FormField],
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /user/password/reset/token``: email a reset link; OK for unknown emails."""

    @abstractmethod
    async def password_reset_post(
        self,
        form_fields: list[FormField],
        token: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /user/password/reset``."""
