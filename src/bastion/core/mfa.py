"""MFA requirement lists and the ``st-mfa`` claim value (spec sections 9.1 to 9.3).

A requirement list is a sequence of items, each a factor id, ``{"oneOf": [ids]}`` or
``{"allOfInAnyOrder": [ids]}``; all items must be satisfied. ``completed`` maps factor ids to
the time they were completed (epoch seconds, as the ``c`` of ``st-mfa``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "FACTOR_IDS",
    "MS_THRESHOLD",
    "Requirement",
    "completion_seconds",
    "default_requirements",
    "effective_completions",
    "item_factors",
    "next_unsatisfied",
    "requirement_failure",
    "stale_failure",
    "validate_requirements",
]

FACTOR_IDS = (
    "emailpassword",
    "otp-email",
    "otp-phone",
    "link-email",
    "link-phone",
    "thirdparty",
    "totp",
    "webauthn",
    "recovery-code",
)
Requirement = str | Mapping[str, Sequence[str]]
MS_THRESHOLD = 100_000_000_000
"""Times above this are milliseconds (the protocol mixes seconds and ms in ``c``)."""


def validate_requirements(requirements: Any) -> list[Requirement]:
    """Check the grammar; raise ``ValueError`` naming the first bad item."""
    if not isinstance(requirements, list | tuple):
        raise ValueError("a requirement list must be a list")
    checked: list[Requirement] = []
    for item in requirements:
        if isinstance(item, str) and item:
            checked.append(item)
            continue
        if isinstance(item, Mapping) and len(item) == 1:
            ((kind, ids),) = item.items()
            if (
                kind in ("oneOf", "allOfInAnyOrder")
                and isinstance(ids, list | tuple)
                and all(isinstance(i, str) and i for i in ids)
            ):
                checked.append({kind: list(ids)})
                continue
        raise ValueError(f"not a requirement: {item!r}")
    return checked


def item_factors(item: Requirement) -> list[str]:
    """The factor ids an item mentions."""
    if isinstance(item, str):
        return [item]
    (ids,) = item.values()
    return list(ids)


def _item_unsatisfied(item: Requirement, completed: Collection[str]) -> list[str]:
    """The factors still needed for ``item`` (empty when it is satisfied)."""
    if isinstance(item, str):
        return [] if item in completed else [item]
    ((kind, ids),) = item.items()
    if kind == "oneOf":
        return [] if not ids or any(i in completed for i in ids) else list(ids)
    return [i for i in ids if i not in completed]


def next_unsatisfied(completed: Collection[str], requirements: Iterable[Requirement]) -> list[str]:
    """The factors of the first unsatisfied item (``[]`` when every item is satisfied)."""
    for item in requirements:
        missing = _item_unsatisfied(item, completed)
        if missing:
            return missing
    return []


def requirement_failure(
    completed: Collection[str], requirements: Iterable[Requirement]
) -> dict[str, Any] | None:
    """The camelCase reason for the first unsatisfied item (the Node SDK's shape), or None."""
    for item in requirements:
        missing = _item_unsatisfied(item, completed)
        if not missing:
            continue
        if isinstance(item, str):
            return {"message": f"Factor validation failed: {item} not completed", "factorId": item}
        ((kind, ids),) = item.items()
        if kind == "oneOf":
            return {
                "message": "None of these factors are complete in the session: " + ", ".join(ids),
                "oneOf": list(ids),
            }
        return {
            "message": "Some of the factors are not complete in the session: " + ", ".join(missing),
            "allOfInAnyOrder": missing,
        }
    return None


def default_requirements(*required: Iterable[str]) -> list[Requirement]:
    """``[{"oneOf": union}]`` of the required secondary factors, ``[]`` when there are none."""
    union: list[str] = []
    for factors in required:
        union.extend(f for f in factors if f not in union)
    return [{"oneOf": union}] if union else []


def completion_seconds(value: Any) -> float | None:
    """A ``c`` entry as epoch seconds (entries written in ms are converted), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value / 1000 if value > MS_THRESHOLD else float(value)


def effective_completions(
    completed: Mapping[str, Any], substitutes: Mapping[str, Collection[str]]
) -> dict[str, float]:
    """Completion times, with each substitute counting for the factors it stands in for.

    ``substitutes`` maps a factor (``recovery-code``) to the factors it may replace
    (``totp``); the replaced factor takes the later of the two times.
    """
    times = {k: t for k, v in completed.items() if (t := completion_seconds(v)) is not None}
    for substitute, replaced in substitutes.items():
        at = times.get(substitute)
        if at is None:
            continue
        for factor in replaced:
            times[factor] = max(times.get(factor, at), at)
    return times


def stale_failure(
    completed: Mapping[str, float],
    requirements: Iterable[Requirement],
    *,
    now_s: float,
    max_age_s: int,
) -> dict[str, Any] | None:
    """The step-up reason when an item is not satisfied by factors done within ``max_age_s``."""
    fresh = {k for k, at in completed.items() if now_s - at <= max_age_s}
    for item in requirements:
        if not _item_unsatisfied(item, fresh):
            continue
        ages = [now_s - completed[f] for f in item_factors(item) if f in completed]
        reason: dict[str, Any] = {"message": "factor not completed recently enough"}
        if isinstance(item, str):
            reason["factorId"] = item
        else:
            reason.update(item)
        reason["ageInSeconds"] = round(min(ages)) if ages else None
        reason["maxAgeInSeconds"] = max_age_s
        return reason
    return None
