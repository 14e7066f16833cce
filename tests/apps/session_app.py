"""A FastAPI app exposing the session API to tests: create, verify in several ways, revoke."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends, FastAPI, Request

from bastion.framework.fastapi import get_middleware
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.asyncio import create_new_session
from bastion.recipe.session.claims import BooleanClaim, PrimitiveArrayClaim
from bastion.recipe.session.framework.fastapi import verify_session

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)
RolesClaim = PrimitiveArrayClaim(key="roles", fetch_value=lambda _, __: ["user"])


def build() -> FastAPI:
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.post("/create")
    async def create(
        request: Request,
        user: str = Body("user-1", embed=True),
        payload: dict[str, Any] | None = Body(None, embed=True),
        data: dict[str, Any] | None = Body(None, embed=True),
    ) -> dict[str, str]:
        session = await create_new_session(request, user, payload, data)
        return {"handle": session.get_handle()}

    @app.api_route("/verify", methods=["GET", "POST", "PUT", "DELETE"])
    async def verify(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": s.get_user_id(), "handle": s.get_handle()}

    @app.get("/verify-db")
    async def verify_db(
        s: SessionContainer = Depends(verify_session(check_database=True)),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.post("/optional")
    async def optional(
        s: SessionContainer | None = Depends(verify_session(session_required=False)),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id() if s else None}

    @app.api_route("/verify-any", methods=["GET", "POST", "OPTIONS", "TRACE"])
    async def verify_any(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.api_route("/optional-any", methods=["GET", "OPTIONS", "TRACE"])
    async def optional_any(
        s: SessionContainer | None = Depends(verify_session(session_required=False)),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id() if s else None}

    @app.post("/no-csrf-check")
    async def no_csrf(
        s: SessionContainer = Depends(verify_session(anti_csrf_check=False)),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.post("/2fa")
    async def two_fa(
        s: SessionContainer = Depends(
            verify_session(
                override_global_claim_validators=lambda g, s, u: [
                    *g,
                    SecondFactorClaim.validators.has_value(True),
                ]
            )
        ),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.post("/set-2fa")
    async def set_2fa(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        await s.set_claim_value(SecondFactorClaim, True)
        return {"ok": True}

    @app.post("/merge")
    async def merge(
        update: dict[str, Any] = Body(embed=True),
        s: SessionContainer = Depends(verify_session()),
    ) -> dict[str, Any]:
        await s.merge_into_access_token_payload(update)
        return s.get_access_token_payload()

    @app.post("/data")
    async def data(
        value: dict[str, Any] = Body(embed=True),
        s: SessionContainer = Depends(verify_session()),
    ) -> dict[str, Any]:
        await s.update_session_data_in_database(value)
        return await s.get_session_data_from_database()

    @app.post("/revoke")
    async def revoke(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        await s.revoke_session()
        return {"ok": True}

    return app
