"""The ``formFields`` of the email-password API: reading them, default validators, checking.

Messages and statuses follow spec section 7.2, so ``supertokens-web-js`` shows them unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bastion.bridge import maybe_await
from bastion.errors import BadInputError
from bastion.users.emails import is_valid_email, normalise_email

__all__ = [
    "EMAIL",
    "PASSWORD",
    "FieldSpec",
    "FormField",
    "FormFieldValidator",
    "default_email_validator",
    "field_error",
    "read_form_fields",
    "validate_form_fields",
    "value_of",
]

EMAIL = "email"
PASSWORD = "password"

FormFieldValidator = Callable[[Any, str], "Awaitable[str | None] | str | None"]
"""``validate(value, tenant_id)`` returns an error message, or None when the value is fine."""


@dataclass(frozen=True, slots=True)
class FormField:
    """One submitted field."""

    id: str
    value: Any


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A configured field: its validator and whether it may be left out."""

    id: str
    validate: FormFieldValidator | None = None
    optional: bool = False


async def default_email_validator(value: Any, tenant_id: str) -> str | None:
    """``Email is not valid`` unless ``value`` looks like an address."""
    if not isinstance(value, str):
        return "Development bug: Please make sure the email field yields a string"
    return None if is_valid_email(value) else "Email is not valid"


def read_form_fields(body: Any, specs: Sequence[FieldSpec]) -> list[FormField]:
    """The ``formFields`` of a request body, with the spec's 400 answers for malformed ones.

    The email is trimmed; email and password must be strings.
    """
    raw = body.get("formFields") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        raise BadInputError("formFields must be an array")
    fields: list[FormField] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or "value" not in item:
            raise BadInputError("All elements of formFields must contain an 'id' and 'value' field")
        field_id: str = item["id"]
        value = item["value"]
        if field_id in (EMAIL, PASSWORD) and not isinstance(value, str):
            raise BadInputError("email value must be a string")
        if field_id == EMAIL:
            value = normalise_email(value)
        fields.append(FormField(field_id, value))
    if len(fields) > len(specs):
        raise BadInputError("Are you sending too many formFields?")
    return fields


async def validate_form_fields(
    fields: Sequence[FormField], specs: Sequence[FieldSpec], tenant_id: str
) -> list[dict[str, str]]:
    """The FIELD_ERROR entries (``{"id", "error"}``) for ``fields``; empty when all pass."""
    errors: list[dict[str, str]] = []
    for spec in specs:
        value = value_of(fields, spec.id)
        if value is None or value == "":
            if not spec.optional:
                errors.append({"id": spec.id, "error": "Field is not optional"})
            continue
        if spec.validate is not None:
            message = await maybe_await(spec.validate(value, tenant_id))
            if message is not None:
                errors.append({"id": spec.id, "error": str(message)})
    return errors


def field_error(errors: list[dict[str, str]]) -> dict[str, Any]:
    """The FIELD_ERROR body (HTTP 200)."""
    return {"status": "FIELD_ERROR", "formFields": errors}


def value_of(fields: Sequence[FormField], field_id: str) -> Any:
    """The value of field ``field_id`` (None if absent)."""
    return next((f.value for f in fields if f.id == field_id), None)
