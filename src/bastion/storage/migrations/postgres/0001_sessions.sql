-- Sessions, signing keys and server secrets (as sqlite/0001, with PostgreSQL's types).
CREATE TABLE sessions (
    handle          TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    recipe_user_id  TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    access_payload  TEXT NOT NULL,
    session_data    TEXT NOT NULL,
    current_hash2   TEXT NOT NULL,
    prev_hash2      TEXT,
    rotated_at_ms   BIGINT,
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, tenant_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    slot            TEXT NOT NULL UNIQUE,
    private_pem     BYTEA NOT NULL,
    sign_from_ms    BIGINT NOT NULL,
    sign_until_ms   BIGINT NOT NULL,
    verify_until_ms BIGINT NOT NULL
);

CREATE TABLE secrets (
    name            TEXT PRIMARY KEY,
    value           BYTEA NOT NULL
);
