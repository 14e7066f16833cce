-- Users, email-password credentials, verified emails, single-use tokens, throttling counters.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    time_joined_ms  BIGINT NOT NULL
);
CREATE INDEX users_by_time_joined ON users (time_joined_ms, id);

-- One row per way of signing in. email_key is the normalised email: NFKC, case-folded.
CREATE TABLE login_methods (
    recipe_user_id  TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipe_id       TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    email           TEXT,
    email_key       TEXT,
    time_joined_ms  BIGINT NOT NULL
);
-- One account per email and tenant for a recipe: the sign-up race is settled here.
CREATE UNIQUE INDEX login_methods_email ON login_methods (recipe_id, tenant_id, email_key);
CREATE INDEX login_methods_by_user ON login_methods (user_id);
CREATE INDEX login_methods_by_email_key ON login_methods (email_key);

CREATE TABLE password_credentials (
    recipe_user_id  TEXT PRIMARY KEY REFERENCES login_methods (recipe_user_id) ON DELETE CASCADE,
    password_hash   TEXT NOT NULL
);

CREATE TABLE verified_emails (
    recipe_user_id  TEXT NOT NULL,
    email_key       TEXT NOT NULL,
    PRIMARY KEY (recipe_user_id, email_key)
);

-- Password-reset and email-verification tokens: only the SHA-256 of a token is stored.
CREATE TABLE user_tokens (
    token_hash      TEXT PRIMARY KEY,
    purpose         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    email_key       TEXT NOT NULL,
    expires_at_ms   BIGINT NOT NULL
);
CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);

-- Throttling: attempts in the current window, and consecutive attempts since the last reset.
CREATE TABLE rate_counters (
    name            TEXT NOT NULL,
    counter_key     TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    hits            BIGINT NOT NULL,
    consecutive     BIGINT NOT NULL,
    PRIMARY KEY (name, counter_key)
);
