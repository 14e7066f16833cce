"""The seed's Python snippets with ``supertokens_python`` renamed to ``bastion``.

``per_route_app()`` uses the FastAPI snippet (the validator added on one route);
``global_app()`` uses the global-validator snippet (``get_global_claim_validators`` override).
Both add a first-factor route that creates the session and a second-factor route that sets the
claim to true, as the seed's earlier steps describe.
"""

# ruff: noqa: E501, I001 - the snippets are kept as the seed wrote them

from __future__ import annotations

from fastapi import FastAPI, Request

from bastion.framework.fastapi import get_middleware
from bastion.recipe.session.asyncio import create_new_session


def _base_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.post("/first-factor")
    async def first_factor(request: Request) -> dict[str, str]:
        await create_new_session(request, "user-1")
        return {"status": "OK"}

    return app


def per_route_app() -> FastAPI:
    app = _base_app()

    # --- seed: FastAPI snippet -----------------------------------------------------------
    from bastion.recipe.session.framework.fastapi import verify_session
    from bastion.recipe.session import SessionContainer
    from fastapi import Depends
    from bastion.recipe.session.claims import BooleanClaim

    SecondFactorClaim = BooleanClaim(
        key="2fa-completed", fetch_value=lambda _, __: False)

    @app.post('/like_comment')
    async def like_comment(session: SessionContainer = Depends(
            verify_session(
                # We add the SecondFactorClaim's has_value(True) validator
                override_global_claim_validators=lambda global_validators, session, user_context: global_validators + \
                [SecondFactorClaim.validators.has_value(True)]
            )
    )):
        # All validator checks have passed and the user has completed 2FA
        pass
    # --------------------------------------------------------------------------------------

    @app.post("/second-factor")
    async def second_factor(session: SessionContainer = Depends(verify_session())) -> dict[str, str]:
        await session.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.get("/no-2fa-needed")
    async def no_2fa_needed(session: SessionContainer = Depends(verify_session())) -> dict[str, str]:
        return {"user": session.get_user_id()}

    return app


# --- seed: global-validator snippet ----------------------------------------------------------
from typing import List, Dict, Any
from bastion.recipe.session.claims import BooleanClaim
from bastion.recipe import session
from bastion.recipe.session.interfaces import RecipeInterface, SessionClaimValidator

SecondFactorClaim = BooleanClaim(
    key="2fa-completed", fetch_value=lambda _, __: False)

def override_session_functions(original_implementation: RecipeInterface):
    async def get_global_claim_validators(
        user_id: str,
        claim_validators_added_by_other_recipes: List[SessionClaimValidator],
        user_context: Dict[str, Any],
    ):
        return claim_validators_added_by_other_recipes + [SecondFactorClaim.validators.has_value(True)]

    original_implementation.get_global_claim_validators = get_global_claim_validators
    return original_implementation

session_recipe = session.init(override=session.InputOverrideConfig(override_session_functions))
# ----------------------------------------------------------------------------------------------


def global_app() -> FastAPI:
    from fastapi import Depends

    from bastion.recipe.session import SessionContainer
    from bastion.recipe.session.framework.fastapi import verify_session

    app = _base_app()

    @app.post("/like_comment")
    async def like_comment(session: SessionContainer = Depends(verify_session())) -> None:
        pass

    @app.get("/profile")
    async def profile(session: SessionContainer = Depends(verify_session())) -> dict[str, str]:
        return {"user": session.get_user_id()}

    @app.post("/second-factor")
    async def second_factor(
        session: SessionContainer = Depends(
            verify_session(override_global_claim_validators=lambda validators, s, uc: [])
        ),
    ) -> dict[str, str]:
        await session.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    return app
