"""The API the page talks to: bastion's middleware, CORS for the page's origin, a few routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from starlette.middleware.cors import CORSMiddleware

import bastion
from bastion.framework.fastapi import get_middleware
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.asyncio import create_new_session
from bastion.recipe.session.claims import BooleanClaim
from bastion.recipe.session.framework.fastapi import verify_session

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)

Session = Annotated[SessionContainer, Depends(verify_session())]
SessionWith2FA = Annotated[
    SessionContainer,
    Depends(
        verify_session(
            override_global_claim_validators=lambda validators, _s, _c: [
                *validators,
                SecondFactorClaim.validators.has_value(True),
            ]
        )
    ),
]


def build(page_origin: str) -> FastAPI:
    app = FastAPI()
    app.add_middleware(get_middleware())
    # Added last, so it runs first: preflights never reach bastion.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[page_origin],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["content-type", *bastion.get_all_cors_headers()],
    )

    @app.post("/create-session")
    async def create_session(
        request: Request,
        user: Annotated[str, Body(embed=True)] = "user-1",
        payload: Annotated[dict[str, Any] | None, Body(embed=True)] = None,
    ) -> dict[str, str]:
        session = await create_new_session(request, user, payload)
        return {"handle": session.get_handle()}

    @app.get("/profile")
    async def profile(s: Session) -> dict[str, Any]:
        return {"user": s.get_user_id(), "handle": s.get_handle()}

    @app.post("/like-comment")
    async def like_comment(s: SessionWith2FA) -> dict[str, bool]:
        return {"liked": True}

    @app.post("/second-factor")
    async def second_factor(s: Session) -> dict[str, str]:
        await s.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    return app
