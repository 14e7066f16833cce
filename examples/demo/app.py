"""A small FastAPI app protected by bastion: the seed's two-factor flow.

Run it with ``scripts/demo`` and try it with curl (header mode, since curl sends no
``st-auth-mode``)::

    curl -si -X POST localhost:8000/login -H 'content-type: application/json' -d '{"user":"alice"}'
    curl -si -X POST localhost:8000/like_comment -H "authorization: Bearer <st-access-token>"
    curl -si -X POST localhost:8000/second-factor -H "authorization: Bearer <st-access-token>" \\
         -H 'content-type: application/json' -d '{"code":"000000"}'
"""

from __future__ import annotations

import os

from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware

import bastion
from bastion.framework.fastapi import get_middleware
from bastion.recipe import session
from bastion.recipe.session import SessionContainer
from bastion.recipe.session.asyncio import create_new_session
from bastion.recipe.session.claims import BooleanClaim
from bastion.recipe.session.framework.fastapi import verify_session

API_DOMAIN = os.environ.get("BASTION_API_DOMAIN", "http://127.0.0.1:8000")
WEBSITE_DOMAIN = os.environ.get("BASTION_WEBSITE_DOMAIN", "http://127.0.0.1:3000")
DEMO_CODE = "000000"  # stands in for a real second factor until the TOTP recipe is used

SecondFactorClaim = BooleanClaim(key="2fa-completed", fetch_value=lambda _, __: False)

bastion.init(
    app_info=bastion.InputAppInfo(
        app_name="bastion demo",
        api_domain=API_DOMAIN,
        website_domain=WEBSITE_DOMAIN,
        api_base_path="/auth",
        website_base_path="/auth",
    ),
    framework="fastapi",
    recipe_list=[session.init()],
    database_url=os.environ.get("BASTION_DATABASE_URL", "sqlite:///bastion.db"),
)

app = FastAPI(title="bastion demo")
app.add_middleware(get_middleware())
app.add_middleware(
    CORSMiddleware,
    allow_origins=[WEBSITE_DOMAIN],
    allow_credentials=True,
    allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allow_headers=["content-type", *bastion.get_all_cors_headers()],
)


@app.post("/login")
async def login(request: Request, user: str = Body(embed=True)) -> dict[str, str]:
    """A stand-in first factor: any user name signs in (the email-password recipe replaces it)."""
    await create_new_session(request, user, await SecondFactorClaim.build(user))
    return {"status": "OK"}


@app.post("/second-factor")
async def second_factor(
    code: str = Body(embed=True),
    s: SessionContainer = Depends(verify_session(override_global_claim_validators=lambda *_: [])),
) -> dict[str, str]:
    if code != DEMO_CODE:
        raise HTTPException(400, "wrong code")
    await s.set_claim_value(SecondFactorClaim, True)
    return {"status": "OK"}


@app.post("/like_comment")
async def like_comment(
    s: SessionContainer = Depends(
        verify_session(
            override_global_claim_validators=lambda global_validators, session, user_context: (
                [*global_validators, SecondFactorClaim.validators.has_value(True)]
            )
        )
    ),
) -> dict[str, str]:
    return {"status": "OK", "user": s.get_user_id()}
