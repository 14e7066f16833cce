"""The seed's Flask snippet with ``supertokens_python`` renamed to ``bastion``.

``per_route_app()`` uses the snippet as written (route ``/update-jwt``), plus an ``async def``
view with the same validator; ``global_app()`` uses the global-validator snippet (in
:mod:`tests.apps.seed_fastapi`, shared by every framework).
"""

# ruff: noqa: E501, I001, RUF005 - the snippet is kept as the seed wrote it

from __future__ import annotations

from flask import Flask, g, request

from bastion.framework.flask import Middleware
from bastion.recipe.session.framework.flask import get_session
from bastion.recipe.session.syncio import create_new_session
from tests.apps.seed_fastapi import SecondFactorClaim as GlobalSecondFactorClaim
from tests.apps.seed_fastapi import session_recipe

__all__ = ["global_app", "per_route_app", "session_recipe"]


def _base_app() -> Flask:
    app = Flask(__name__)
    Middleware(app)

    @app.route("/first-factor", methods=["POST"])
    def first_factor() -> dict[str, str]:
        create_new_session(request, "user-1")
        return {"status": "OK"}

    return app


def per_route_app() -> Flask:
    app = _base_app()

    # --- seed: Flask snippet -------------------------------------------------------------------
    # fmt: off
    from bastion.recipe.session.framework.flask import verify_session
    from bastion.recipe.session.claims import BooleanClaim

    SecondFactorClaim = BooleanClaim(
        key="2fa-completed", fetch_value=lambda _, __: False)

    @app.route('/update-jwt', methods=['POST'])
    @verify_session(
        # We add the SecondFactorClaim's has_value(True) validator
        override_global_claim_validators=lambda global_validators, session, user_context: global_validators + \
        [SecondFactorClaim.validators.has_value(True)]
    )
    def like_comment():
        # All validator checks have passed and the user has completed 2FA
        pass
    # fmt: on
    # -------------------------------------------------------------------------------------------

    @app.route("/like_comment_async", methods=["POST"])
    @verify_session(
        override_global_claim_validators=lambda global_validators, session, user_context: (
            global_validators + [SecondFactorClaim.validators.has_value(True)]
        )
    )
    async def like_comment_async() -> dict[str, str]:
        session = get_session()
        assert session is not None
        return {"user": session.get_user_id()}

    @app.route("/second-factor", methods=["POST"])
    @verify_session()
    def second_factor() -> dict[str, str]:
        g.supertokens.sync_set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.route("/second-factor-async", methods=["POST"])
    @verify_session()
    async def second_factor_async() -> dict[str, str]:
        await g.supertokens.set_claim_value(SecondFactorClaim, True)
        return {"status": "OK"}

    @app.route("/no-2fa-needed")
    @verify_session()
    def no_2fa_needed() -> dict[str, str]:
        return {"user": g.supertokens.get_user_id()}

    return app


def global_app() -> Flask:
    """Plain ``verify_session()`` everywhere; the global validator (seed) requires 2FA."""
    from bastion.recipe.session.framework.flask import verify_session

    app = _base_app()

    @app.route("/like_comment", methods=["POST"])
    @verify_session()
    def like_comment() -> None:
        pass

    @app.route("/profile")
    @verify_session()
    def profile() -> dict[str, str]:
        return {"user": g.supertokens.get_user_id()}

    @app.route("/second-factor", methods=["POST"])
    @verify_session(override_global_claim_validators=lambda validators, s, uc: [])
    def second_factor() -> dict[str, str]:
        g.supertokens.sync_set_claim_value(GlobalSecondFactorClaim, True)
        return {"status": "OK"}

    return app
