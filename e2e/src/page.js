// The test page: the real supertokens-web-js, driven from pytest through Playwright.
//
// Everything the tests call lives on `window.e2e`; each function returns plain JSON so that
// `page.evaluate` can hand it back. Recipe calls go through `callRecipe(recipe, fn, input)`,
// so a new flow (EmailPassword.signUp, TOTP.createDevice/verifyDevice, ...) needs no new code
// here: add the recipe to `RECIPES` if it is not there yet and call it from the test.
import SuperTokens from "supertokens-web-js";
import EmailPassword from "supertokens-web-js/recipe/emailpassword";
import MultiFactorAuth from "supertokens-web-js/recipe/multifactorauth";
import Session, { BooleanClaim } from "supertokens-web-js/recipe/session";
import TOTP from "supertokens-web-js/recipe/totp";

const RECIPES = {
  session: Session,
  emailpassword: EmailPassword,
  totp: TOTP,
  multifactorauth: MultiFactorAuth,
};

const events = [];
let apiDomain = null;

// Response objects and functions cannot cross page.evaluate: keep only data.
function plain(value) {
  return JSON.parse(
    JSON.stringify(value === undefined ? null : value, (key, v) =>
      key === "fetchResponse" || typeof v === "function" ? undefined : v,
    ),
  );
}

async function settle(promise) {
  try {
    return { ok: true, value: plain(await promise) };
  } catch (error) {
    return {
      ok: false,
      error: {
        name: error && error.name,
        message: String(error && error.message ? error.message : error),
        isSuperTokensGeneralError: Boolean(error && error.isSuperTokensGeneralError),
      },
    };
  }
}

async function fetchApi(path, { method = "GET", body } = {}) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const response = await fetch(apiDomain + path, init);
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the test sees the text
  }
  return { status: response.status, body: json, text };
}

window.e2e = {
  // `recipes` lists the extra recipes to initialise (session is always on).
  init({ apiDomain: domain, apiBasePath = "/auth", tokenTransferMethod, recipes = [] }) {
    apiDomain = domain;
    SuperTokens.init({
      appInfo: { appName: "bastion-e2e", apiDomain: domain, apiBasePath },
      recipeList: [
        Session.init({
          tokenTransferMethod,
          onHandleEvent: (event) => events.push(event.action),
        }),
        ...recipes.map((name) => RECIPES[name].init()),
      ],
    });
    return true;
  },

  events: () => events.splice(0),

  doesSessionExist: () => settle(Session.doesSessionExist()),
  getAccessTokenPayloadSecurely: () => settle(Session.getAccessTokenPayloadSecurely()),
  getUserId: () => settle(Session.getUserId()),
  attemptRefreshingSession: () => settle(Session.attemptRefreshingSession()),
  signOut: () => settle(Session.signOut()),

  // The frontend's own verdict with its global validators (e.g. web-js's MFA validator, which
  // the MultiFactorAuth recipe registers): the failures, [] when every claim is satisfied.
  validateClaims: () => settle(Session.validateClaims()),

  // The frontend's own view of a boolean claim (reads the front token's payload).
  validateBooleanClaim: (id, expected) => {
    const claim = new BooleanClaim({ id, refresh: async () => {} });
    return settle(
      Session.validateClaims({
        overrideGlobalClaimValidators: () => [claim.validators.hasValue(expected)],
      }),
    );
  },

  // An app call to the API origin: the SDK's fetch interceptor decorates it.
  fetchApi: (path, options) => settle(fetchApi(path, options)),
  // Several app calls at once (as a page loading its data does).
  fetchAll: (paths) => settle(Promise.all(paths.map((path) => fetchApi(path)))),

  callRecipe: (recipe, fn, input) => settle(RECIPES[recipe][fn](input)),
};
