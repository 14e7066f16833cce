"""The failed-attempt policy for second factors: a cooldown (a rate) plus a hard cap.

Two counters per user, shared by every session and every factor-code endpoint:

- ``failures`` — the current run: after ``max_attempts`` failures with no pause of
  ``cooldown_ms`` between them, attempts are refused until ``cooldown_ms`` has passed since the
  last one (SuperTokens' 5 failures / 900 s). A pause that long starts a new run.
- ``consecutive`` — failures since the last success, whatever the time between them. At
  ``hard_lock_after`` (NIST 800-63B 5.2.2: at most 100) the factor is locked until an admin
  reset or a recovery code clears it.

Storage applies :func:`begin_attempt` inside one write transaction *before* the code is checked
("increment first, then verify"), so parallel guesses can never get past the limits; a success
then resets both counters.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AttemptDecision", "AttemptPolicy", "AttemptState", "begin_attempt"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptPolicy:
    """Limits on failed second-factor attempts."""

    max_attempts: int = 5
    """Failures in a run before the cooldown applies."""
    cooldown_ms: int = 900_000
    """How long attempts are refused after ``max_attempts`` failures."""
    hard_lock_after: int | None = 100
    """Consecutive failures that lock the factor until a reset (None: never)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.cooldown_ms < 0:
            raise ValueError("the cooldown cannot be negative")
        if self.hard_lock_after is not None and self.hard_lock_after < self.max_attempts:
            raise ValueError("hard_lock_after must be at least max_attempts")


@dataclass(frozen=True, slots=True)
class AttemptState:
    """The stored counters of one user."""

    failures: int = 0
    consecutive: int = 0
    last_failure_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AttemptDecision:
    """What to do with an attempt, and the counters to store if it goes ahead."""

    allowed: bool
    state: AttemptState
    retry_after_ms: int = 0
    hard_locked: bool = False

    @property
    def failures(self) -> int:
        """The failure count this attempt reports if the code turns out wrong."""
        return self.state.failures


def begin_attempt(
    state: AttemptState, now_ms: int, policy: AttemptPolicy, *, honour_hard_lock: bool = True
) -> AttemptDecision:
    """Decide whether an attempt may check a code, counting it as a failure in advance.

    A refused attempt changes nothing (waiting while locked adds no failures). An allowed one
    returns the counters with this attempt already counted as a failure; a success resets them.
    ``honour_hard_lock=False`` is for recovery codes, which are what lifts the hard lock.
    """
    if (
        honour_hard_lock
        and policy.hard_lock_after is not None
        and state.consecutive >= policy.hard_lock_after
    ):
        return AttemptDecision(False, state, policy.cooldown_ms, hard_locked=True)
    failures = state.failures
    if state.last_failure_ms is not None:
        # A clock that stepped back counts as no time passed: it must not lift a cooldown.
        elapsed = max(0, now_ms - state.last_failure_ms)
        if elapsed >= policy.cooldown_ms:
            failures = 0  # a long enough pause starts a new run
        elif failures >= policy.max_attempts:
            return AttemptDecision(False, state, policy.cooldown_ms - elapsed)
    counted = AttemptState(failures + 1, state.consecutive + 1, now_ms)
    return AttemptDecision(True, counted)
