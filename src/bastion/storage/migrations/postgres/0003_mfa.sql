-- Multi-factor auth: TOTP devices, failed-attempt counters, required factors, recovery codes.
-- TOTP secrets are sealed (AES-256-GCM), recovery codes are salted slow hashes. The rowid
-- columns stand in for SQLite's implicit rowid: lists come back in the order rows were added.
CREATE TABLE totp_devices (
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY,
    device_id       TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    sealed_secret   TEXT NOT NULL,
    algorithm       TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits          INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period          INTEGER NOT NULL CHECK (period > 0),
    skew            INTEGER NOT NULL CHECK (skew >= 0),
    verified        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms   BIGINT NOT NULL,
    -- The last time step accepted: replay protection is a conditional UPDATE on this column.
    last_used_step  BIGINT,
    UNIQUE (user_id, name)
);

CREATE TABLE mfa_attempts (
    user_id          TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    consecutive      INTEGER NOT NULL,
    last_failure_ms  BIGINT
);

CREATE TABLE mfa_required_factors (
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY,
    scope      TEXT NOT NULL CHECK (scope IN ('user', 'app', 'tenant')),
    subject    TEXT NOT NULL,
    factor_id  TEXT NOT NULL,
    PRIMARY KEY (scope, subject, factor_id)
);

CREATE TABLE recovery_codes (
    rowid          BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id        TEXT NOT NULL,
    code_id        TEXT NOT NULL,
    code_hash      TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    used_at_ms     BIGINT,
    PRIMARY KEY (user_id, code_id)
);
