"""The session recipe's default :class:`RecipeInterface`: tokens, rotation and claims."""

from __future__ import annotations

import dataclasses
import hmac
import uuid
from typing import Any, NamedTuple

from bastion.audit import Auditor, EventType, Outcome
from bastion.clock import Clock
from bastion.core.front_token import build_front_token
from bastion.core.jwt import TokenExpired, TokenNotYetValid, check_lifetime, sign_token
from bastion.core.payload import build_access_payload, custom_claims
from bastion.core.refresh_tokens import (
    RefreshTokenCodec,
    Rotation,
    RotationState,
    decide_rotation,
    hash1,
    hash2,
)
from bastion.errors import StorageError, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from bastion.recipe.session.interfaces import RecipeInterface, SessionInformationResult
from bastion.sessions.claims import ClaimValidationError, SessionClaim, SessionClaimValidator
from bastion.sessions.config import SessionConfig
from bastion.sessions.container import SessionContainer
from bastion.sessions.keyring import KeyRing
from bastion.sessions.transport import IssuedTokens, write_tokens
from bastion.sessions.validation import refetch_claims, run_validators
from bastion.sessions.verifier import AccessTokenVerifier
from bastion.storage.base import SessionRecord, Store

__all__ = ["SessionRecipeImplementation"]

MAX_ROTATION_ATTEMPTS = 8


class _Identity(NamedTuple):
    """Who a token is for: the fields every access token of a session shares."""

    user_id: str
    recipe_user_id: str
    tenant_id: str
    handle: str

    @classmethod
    def of(cls, record: SessionRecord) -> _Identity:
        return cls(record.user_id, record.recipe_user_id, record.tenant_id, record.handle)


class SessionRecipeImplementation(RecipeInterface):
    """Sessions kept in a :class:`~bastion.storage.base.Store`, signed with a :class:`KeyRing`."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        config: SessionConfig,
        keyring: KeyRing,
        verifier: AccessTokenVerifier,
        codec: RefreshTokenCodec,
        claims_added_by_other_recipes: list[SessionClaim[Any]],
        audit: Auditor,
    ) -> None:
        self.audit = audit
        self.store = store
        self.clock = clock
        self.config = config
        self.keyring = keyring
        self.codec = codec
        self.claims_added_by_other_recipes = claims_added_by_other_recipes
        self.verifier = verifier

    # -- minting -------------------------------------------------------------------------------

    async def _mint(
        self,
        identity: _Identity,
        custom: dict[str, Any],
        *,
        refresh_hash1: str,
        anti_csrf: str | None,
        now_ms: int,
        exp_s: int | None = None,
        parent_hash1: str | None = None,
    ) -> tuple[str, dict[str, Any], str]:
        """Sign an access token; returns (token, payload, front token)."""
        key = await self.keyring.signing_key()
        iat = now_ms // 1000
        payload = build_access_payload(
            custom,
            user_id=identity.user_id,
            recipe_user_id=identity.recipe_user_id,
            tenant_id=identity.tenant_id,
            session_handle=identity.handle,
            refresh_token_hash1=refresh_hash1,
            anti_csrf_token=anti_csrf,
            iat_s=iat,
            exp_s=exp_s if exp_s is not None else iat + self.config.access_token_validity,
        )
        payload["parentRefreshTokenHash1"] = parent_hash1
        # Always ours, even if a stored payload says otherwise (the API domain moved, or an app
        # merged its own "iss"): the verifier refuses any other issuer.
        payload["iss"] = self.config.issuer
        token = sign_token(payload, key)
        front = build_front_token(identity.user_id, payload["exp"] * 1000, payload)
        return token, payload, front

    def _container(
        self, token: str, front: str, payload: dict[str, Any], issued: IssuedTokens | None
    ) -> SessionContainer:
        return SessionContainer(
            self,
            config=self.config,
            access_token=token,
            front_token=front,
            payload=payload,
            transfer_method=None,
            issued=issued,
        )

    # -- create / verify / refresh -------------------------------------------------------------

    async def create_new_session(
        self,
        user_id: str,
        access_token_payload: dict[str, Any] | None,
        session_data_in_database: dict[str, Any] | None,
        disable_anti_csrf: bool,
        user_context: dict[str, Any],
        *,
        tenant_id: str = "public",
        recipe_user_id: str | None = None,
    ) -> SessionContainer:
        now = self.clock.now_ms()
        handle = str(uuid.uuid4())
        refresh = self.codec.new_token(handle)
        custom = custom_claims(access_token_payload or {})
        custom["iss"] = self.config.issuer
        for claim in self.claims_added_by_other_recipes:
            custom.update(
                await claim.build(
                    user_id,
                    user_context,
                    recipe_user_id=recipe_user_id or user_id,
                    tenant_id=tenant_id,
                    current_payload=custom,
                )
            )
        record = SessionRecord(
            handle=handle,
            user_id=user_id,
            recipe_user_id=recipe_user_id or user_id,
            tenant_id=tenant_id,
            access_payload=custom,
            session_data=dict(session_data_in_database or {}),
            current_hash2=hash2(refresh),
            prev_hash2=None,
            rotated_at_ms=None,
            created_at_ms=now,
            expires_at_ms=self.config.session_end_ms(now, now),
        )
        await self.store.create_session(record)
        anti_csrf = self._anti_csrf_for(refresh, disable_anti_csrf)
        token, payload, front = await self._mint(
            _Identity.of(record),
            custom,
            refresh_hash1=hash1(refresh),
            anti_csrf=anti_csrf,
            now_ms=now,
            exp_s=self.config.access_token_exp_s(now, now // 1000),
        )
        await self.audit.emit(
            EventType.SESSION_CREATED,
            Outcome.SUCCESS,
            user_context=user_context,
            user_id=user_id,
            session_handle=handle,
        )
        issued = IssuedTokens(token, front, refresh, record.expires_at_ms, anti_csrf)
        return self._container(token, front, payload, issued)

    def _anti_csrf_for(self, refresh_token: str, disable: bool) -> str | None:
        if disable or self.config.anti_csrf != "VIA_TOKEN":
            return None
        return self.codec.anti_csrf_token(refresh_token)

    async def get_session(
        self,
        access_token: str,
        anti_csrf_token: str | None,
        anti_csrf_check: bool,
        check_database: bool,
        user_context: dict[str, Any],
    ) -> SessionContainer:
        parsed = await self.verifier.verify(access_token)
        payload = dict(parsed.payload)
        now = self.clock.now_ms()
        try:
            check_lifetime(parsed, now)
        except TokenExpired as exc:
            raise TryRefreshTokenError("Access token expired") from exc
        except TokenNotYetValid as exc:
            raise TryRefreshTokenError("Access token is not valid yet") from exc
        if anti_csrf_check and self.config.anti_csrf == "VIA_TOKEN":
            expected = payload.get("antiCsrfToken")
            if (
                not isinstance(expected, str)
                or anti_csrf_token is None
                or not hmac.compare_digest(expected.encode(), anti_csrf_token.encode())
            ):
                raise TryRefreshTokenError("anti-csrf check failed")
        if check_database:
            record = await self.store.get_session(str(payload["sessionHandle"]))
            if record is None or record.expires_at_ms <= now:
                raise UnauthorisedError("Either the session has ended or has been blacklisted")
        return self._container(access_token, "", payload, None)

    async def refresh_session(
        self,
        refresh_token: str,
        anti_csrf_token: str | None,
        disable_anti_csrf: bool,
        user_context: dict[str, Any],
    ) -> SessionContainer:
        handle = self.codec.session_handle_of(refresh_token)
        if handle is None:
            raise UnauthorisedError("Refresh token is not valid")
        expected_csrf = self._anti_csrf_for(refresh_token, disable_anti_csrf)
        if expected_csrf is not None and (
            anti_csrf_token is None
            or not hmac.compare_digest(expected_csrf.encode(), anti_csrf_token.encode())
        ):
            raise UnauthorisedError("Anti CSRF token missing, or not matching")
        presented = hash2(refresh_token)
        successor = self.codec.successor(refresh_token, handle)
        record = await self._rotate(handle, presented, hash2(successor), user_context)
        now = self.clock.now_ms()
        anti_csrf = self._anti_csrf_for(successor, disable_anti_csrf)
        token, payload, front = await self._mint(
            _Identity.of(record),
            record.access_payload,
            refresh_hash1=hash1(successor),
            anti_csrf=anti_csrf,
            now_ms=now,
            exp_s=self.config.access_token_exp_s(record.created_at_ms, now // 1000),
        )
        await self.audit.emit(
            EventType.SESSION_REFRESHED,
            Outcome.SUCCESS,
            user_context=user_context,
            user_id=record.user_id,
            session_handle=handle,
        )
        issued = IssuedTokens(token, front, successor, record.expires_at_ms, anti_csrf)
        return self._container(token, front, payload, issued)

    async def _rotate(
        self, handle: str, presented: str, successor: str, user_context: dict[str, Any]
    ) -> SessionRecord:
        """Apply one refresh to the stored chain (compare-and-swap, retried on contention)."""
        grace_ms = self.config.refresh_token_grace_period * 1000
        for _ in range(MAX_ROTATION_ATTEMPTS):
            record = await self.store.get_session(handle)
            now = self.clock.now_ms()
            if record is None or record.expires_at_ms <= now:
                raise UnauthorisedError("Session missing in db or has expired")
            state = RotationState(record.current_hash2, record.prev_hash2, record.rotated_at_ms)
            decision = decide_rotation(state, presented, successor, now_ms=now, grace_ms=grace_ms)
            if decision is Rotation.THEFT:
                await self.store.delete_sessions([handle])
                await self.audit.emit(
                    EventType.THEFT_DETECTED,
                    Outcome.REFUSED,
                    user_context=user_context,
                    user_id=record.user_id,
                    session_handle=handle,
                    reason="refresh_token_reused",
                )
                raise TokenTheftError(handle, record.user_id, record.recipe_user_id)
            if decision is Rotation.ALREADY_ROTATED:
                return record
            # The idle limit moves with each refresh; session_max_age never does.
            expires = self.config.session_end_ms(record.created_at_ms, now)
            rotate = decision is Rotation.ROTATE
            swapped = await self.store.swap_refresh_hash(
                handle,
                expected_current=record.current_hash2,
                new_current=successor,
                new_prev=presented if rotate else record.prev_hash2,
                rotated_at_ms=now if rotate else record.rotated_at_ms,
                expires_at_ms=expires,
            )
            if swapped:
                return dataclasses.replace(record, expires_at_ms=expires)
        raise StorageError("refresh token rotation kept losing to concurrent writers")

    # -- payload and claims --------------------------------------------------------------------

    async def regenerate_access_token(
        self,
        session: SessionContainer,
        access_token_payload_update: dict[str, Any],
        user_context: dict[str, Any],
    ) -> None:
        handle = session.get_handle()
        merged = await self.store.merge_access_payload(handle, access_token_payload_update)
        if merged is None:
            raise UnauthorisedError("Session does not exist anymore.")
        old = session.get_access_token_payload()
        now = self.clock.now_ms()
        identity = _Identity(
            session.get_user_id(), session.get_recipe_user_id(), session.get_tenant_id(), handle
        )
        if now >= int(old["exp"]) * 1000:
            # The token has expired: the client gets the new payload at its next refresh.
            session._replace_payload({**old, **merged})
            return
        token, payload, front = await self._mint(
            identity,
            merged,
            refresh_hash1=str(old["refreshTokenHash1"]),
            anti_csrf=old.get("antiCsrfToken"),
            now_ms=now,
            exp_s=int(old["exp"]),
            parent_hash1=old.get("parentRefreshTokenHash1"),
        )
        session.access_token = token
        session.front_token = front
        session._replace_payload(payload)
        if session.request_state is not None and session.transfer_method is not None:
            write_tokens(
                session.request_state.changes,
                self.config,
                session.transfer_method,
                IssuedTokens(token, front),
                now_ms=now,
            )

    async def get_global_claim_validators(
        self,
        user_id: str,
        claim_validators_added_by_other_recipes: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> list[SessionClaimValidator]:
        return list(claim_validators_added_by_other_recipes)

    async def validate_claims(
        self,
        session: SessionContainer,
        claim_validators: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> list[ClaimValidationError]:
        payload = session.get_access_token_payload()
        update = await refetch_claims(
            claim_validators,
            payload,
            user_id=session.get_user_id(),
            recipe_user_id=session.get_recipe_user_id(),
            tenant_id=session.get_tenant_id(),
            user_context=user_context,
        )
        if update:
            await self.regenerate_access_token(session, update, user_context)
        return await run_validators(claim_validators, payload, user_context)

    # -- handle-based functions ----------------------------------------------------------------

    async def revoke_session(self, session_handle: str, user_context: dict[str, Any]) -> bool:
        record = await self.store.get_session(session_handle)  # whose it was, for the event
        if not await self.store.delete_sessions([session_handle]):
            return False
        await self.audit.emit(
            EventType.SESSION_REVOKED,
            Outcome.SUCCESS,
            user_context=user_context,
            user_id=record.user_id if record is not None else None,
            session_handle=session_handle,
        )
        return True

    async def revoke_all_sessions_for_user(
        self, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> list[str]:
        handles = await self.get_all_session_handles_for_user(user_id, tenant_id, user_context)
        revoked = await self.store.delete_sessions(handles)
        for handle in revoked:
            await self.audit.emit(
                EventType.SESSION_REVOKED,
                Outcome.SUCCESS,
                user_context=user_context,
                user_id=user_id,
                session_handle=handle,
            )
        return revoked

    async def get_all_session_handles_for_user(
        self, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> list[str]:
        return await self.store.list_session_handles(
            user_id, tenant_id=tenant_id, now_ms=self.clock.now_ms()
        )

    async def get_session_information(
        self, session_handle: str, user_context: dict[str, Any]
    ) -> SessionInformationResult | None:
        record = await self.store.get_session(session_handle)
        if record is None or record.expires_at_ms <= self.clock.now_ms():
            return None
        return SessionInformationResult(
            session_handle=record.handle,
            user_id=record.user_id,
            recipe_user_id=record.recipe_user_id,
            session_data_in_database=record.session_data,
            expiry=record.expires_at_ms,
            custom_claims_in_access_token_payload=record.access_payload,
            time_created=record.created_at_ms,
            tenant_id=record.tenant_id,
        )

    async def update_session_data_in_database(
        self, session_handle: str, new_session_data: dict[str, Any], user_context: dict[str, Any]
    ) -> bool:
        return await self.store.update_session_data(session_handle, new_session_data)

    async def merge_into_access_token_payload(
        self,
        session_handle: str,
        access_token_payload_update: dict[str, Any],
        user_context: dict[str, Any],
    ) -> bool:
        merged = await self.store.merge_access_payload(session_handle, access_token_payload_update)
        return merged is not None
