-- Sessions, signing keys and server secrets.
CREATE TABLE sessions (
    handle          TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    recipe_user_id  TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    access_payload  TEXT NOT NULL,
    session_data    TEXT NOT NULL,
    current_hash2   TEXT NOT NULL,
    prev_hash2      TEXT,
    rotated_at_ms   INTEGER,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, tenant_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    slot            TEXT NOT NULL UNIQUE,
    private_pem     BLOB NOT NULL,
    sign_from_ms    INTEGER NOT NULL,
    sign_until_ms   INTEGER NOT NULL,
    verify_until_ms INTEGER NOT NULL
);

CREATE TABLE secrets (
    name            TEXT PRIMARY KEY,
    value           BLOB NOT NULL
);
