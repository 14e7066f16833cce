"""The passwordless recipe's override surfaces and result types.

``RecipeInterface`` is the data layer (what ``override.functions`` receives): codes, their
devices, and the messages that carry them. ``APIInterface`` is the HTTP layer
(``override.apis``): each endpoint returns the JSON body of its HTTP 200 answer (spec 7.3).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bastion.email.message import EmailMessage
from bastion.recipe.passwordless.contact import Contact
from bastion.recipe.passwordless.sms import SmsMessage
from bastion.users.model import User

if TYPE_CHECKING:
    from bastion.app import Bastion
    from bastion.http.types import BaseRequest
    from bastion.recipe.passwordless.config import PasswordlessConfig
    from bastion.recipe.passwordless.recipe import PasswordlessRecipe

__all__ = [
    "APIInterface",
    "APIOptions",
    "CodeBinding",
    "CodeInfo",
    "ConsumeCodeOkResult",
    "ContactTakenError",
    "CreateCodeOkResult",
    "DeviceInfo",
    "ExpiredUserInputCodeError",
    "IncorrectUserInputCodeError",
    "LoginMessage",
    "Purpose",
    "RecipeInterface",
    "RestartFlowError",
    "SignInUpOkResult",
]

Purpose = Literal["signinup", "factor", "setup"]


@dataclass(frozen=True, slots=True)
class CodeBinding:
    """Ties a code to one session: a second-factor challenge (``factor``: the session's user
    has the contact) or a factor setup (``setup``: consuming it adds the contact to the user).
    Such a code completes nothing for any other session, and a sign-in code nothing for this."""

    purpose: Literal["factor", "setup"]
    user_id: str
    session_handle: str


@dataclass(frozen=True, slots=True)
class CreateCodeOkResult:
    """A new code. ``user_input_code`` and ``link_code`` are the only copies: storage keeps
    hashes."""

    pre_auth_session_id: str
    code_id: str
    device_id: str
    user_input_code: str
    link_code: str
    code_life_time: int
    """Milliseconds."""
    time_created: int
    """Milliseconds since the epoch."""
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class RestartFlowError:
    status: Literal["RESTART_FLOW_ERROR"] = "RESTART_FLOW_ERROR"


@dataclass(frozen=True, slots=True)
class IncorrectUserInputCodeError:
    failed_code_input_attempt_count: int
    maximum_code_input_attempts: int
    status: Literal["INCORRECT_USER_INPUT_CODE_ERROR"] = "INCORRECT_USER_INPUT_CODE_ERROR"


@dataclass(frozen=True, slots=True)
class ExpiredUserInputCodeError:
    failed_code_input_attempt_count: int
    maximum_code_input_attempts: int
    status: Literal["EXPIRED_USER_INPUT_CODE_ERROR"] = "EXPIRED_USER_INPUT_CODE_ERROR"


@dataclass(frozen=True, slots=True)
class ContactTakenError:
    """A setup code was right, but another user has the email or phone number meanwhile."""

    status: Literal["CONTACT_TAKEN_ERROR"] = "CONTACT_TAKEN_ERROR"


@dataclass(frozen=True, slots=True)
class ConsumeCodeOkResult:
    """A code was used up: ``user`` signed in (``signinup``) or is the session's user."""

    user: User
    created_new_recipe_user: bool
    purpose: Purpose
    contact: Contact
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class SignInUpOkResult:
    user: User
    created_new_recipe_user: bool
    status: Literal["OK"] = "OK"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code_id: str
    time_created: int
    code_life_time: int
    """Milliseconds."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A pending login attempt (no secrets: those are only hashed in storage)."""

    pre_auth_session_id: str
    failed_code_input_attempt_count: int
    email: str | None
    phone_number: str | None
    purpose: Purpose
    user_id: str | None
    """The user of the bound session (``factor``/``setup``)."""
    session_handle: str | None
    codes: list[CodeInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoginMessage:
    """What an email or SMS carrying a code is made from."""

    contact: Contact
    """The address the message goes to (the one on file, for known users)."""
    user_input_code: str | None
    """None when the flow sends only links."""
    url_with_link_code: str | None
    """None when the flow sends only codes."""
    code_life_time: int
    """Milliseconds."""
    pre_auth_session_id: str
    tenant_id: str
    purpose: Purpose

    @property
    def is_first_factor(self) -> bool:
        return self.purpose == "signinup"


class RecipeInterface(ABC):
    """The recipe's functions; ``override.functions`` receives an instance."""

    @abstractmethod
    async def create_code(
        self,
        contact: Contact,
        tenant_id: str,
        binding: CodeBinding | None,
        user_context: dict[str, Any],
    ) -> CreateCodeOkResult:
        """A new login attempt and its code (nothing is sent)."""

    @abstractmethod
    async def create_new_code_for_device(
        self, device_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> CreateCodeOkResult | RestartFlowError:
        """A new code for the device; its previous code stops working."""

    @abstractmethod
    async def consume_code(
        self,
        pre_auth_session_id: str,
        user_input_code: str | None,
        device_id: str | None,
        link_code: str | None,
        tenant_id: str,
        session_handle: str | None,
        user_context: dict[str, Any],
    ) -> (
        ConsumeCodeOkResult
        | IncorrectUserInputCodeError
        | ExpiredUserInputCodeError
        | RestartFlowError
        | ContactTakenError
    ):
        """Use up a code (``device_id`` + ``user_input_code``, or ``link_code``).

        ``session_handle`` is the session the code must be bound to (None for a sign-in code).
        No session is created and no MFA factor marked: the API does that.
        """

    @abstractmethod
    async def list_codes_by_email(
        self, email: str, tenant_id: str, user_context: dict[str, Any]
    ) -> list[DeviceInfo]: ...

    @abstractmethod
    async def list_codes_by_phone_number(
        self, phone_number: str, tenant_id: str, user_context: dict[str, Any]
    ) -> list[DeviceInfo]: ...

    @abstractmethod
    async def list_codes_by_pre_auth_session_id(
        self, pre_auth_session_id: str, tenant_id: str, user_context: dict[str, Any]
    ) -> DeviceInfo | None: ...

    @abstractmethod
    async def revoke_all_codes(
        self, contact: Contact, tenant_id: str, user_context: dict[str, Any]
    ) -> None:
        """Drop every pending login attempt for the email or phone number."""

    @abstractmethod
    async def revoke_code(self, code_id: str, tenant_id: str, user_context: dict[str, Any]) -> None:
        """Drop the login attempt whose current code is ``code_id``."""

    @abstractmethod
    async def build_login_email(
        self, message: LoginMessage, user_context: dict[str, Any]
    ) -> EmailMessage:
        """The email that carries a code or link (override to change the wording)."""

    @abstractmethod
    async def build_login_sms(
        self, message: LoginMessage, user_context: dict[str, Any]
    ) -> SmsMessage:
        """The text message that carries a code or link."""


@dataclass(slots=True)
class APIOptions:
    """What an API implementation gets along with the request."""

    request: BaseRequest
    config: PasswordlessConfig
    recipe_implementation: RecipeInterface
    recipe: PasswordlessRecipe
    app: Bastion


class APIInterface(ABC):
    """The recipe's HTTP endpoints; ``override.apis`` receives an instance.

    A ``disable_*`` flag set to True lets the request fall through to the app.
    """

    def __init__(self) -> None:
        self.disable_create_code_post = False
        self.disable_resend_code_post = False
        self.disable_consume_code_post = False
        self.disable_email_exists_get = False
        self.disable_phone_number_exists_get = False

    @abstractmethod
    async def create_code_post(
        self,
        contact: Contact,
        should_try_linking_with_session_user: bool | None,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /signinup/code``: send a code for a sign-in, a second factor or a setup."""

    @abstractmethod
    async def resend_code_post(
        self,
        device_id: str,
        pre_auth_session_id: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /signinup/code/resend``."""

    @abstractmethod
    async def consume_code_post(
        self,
        pre_auth_session_id: str,
        user_input_code: str | None,
        device_id: str | None,
        link_code: str | None,
        should_try_linking_with_session_user: bool | None,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``POST /signinup/code/consume``."""

    @abstractmethod
    async def email_exists_get(
        self, email: str, tenant_id: str, api_options: APIOptions, user_context: dict[str, Any]
    ) -> dict[str, Any]:
        """``GET /passwordless/email/exists``."""

    @abstractmethod
    async def phone_number_exists_get(
        self,
        phone_number: str,
        tenant_id: str,
        api_options: APIOptions,
        user_context: dict[str, Any],
    ) -> dict[str, Any]:
        """``GET /passwordless/phonenumber/exists``."""
