-- Passwordless sign-in and email/SMS one-time codes (as sqlite/0004).
-- A device is one login attempt with its single live code. Only keyed hashes of the user input
-- code and of the link code are kept, and the device id itself never is: the primary key is
-- base64url(SHA-256(device id)), the preAuthSessionId of the protocol.
CREATE TABLE passwordless_devices (
    pre_auth_session_id  TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    email                TEXT,
    email_key            TEXT,
    phone_number         TEXT,
    purpose              TEXT NOT NULL CHECK (purpose IN ('signinup', 'factor', 'setup')),
    user_id              TEXT,
    session_handle       TEXT,
    code_id              TEXT NOT NULL UNIQUE,
    code_hash            TEXT NOT NULL,
    link_code_hash       TEXT NOT NULL,
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    created_at_ms        BIGINT NOT NULL,
    code_created_at_ms   BIGINT NOT NULL,
    expires_at_ms        BIGINT NOT NULL,
    CHECK ((email IS NULL) <> (phone_number IS NULL)),
    CHECK ((purpose = 'signinup') = (session_handle IS NULL))
);
CREATE INDEX passwordless_devices_by_email ON passwordless_devices (tenant_id, email_key);
CREATE INDEX passwordless_devices_by_phone ON passwordless_devices (tenant_id, phone_number);
CREATE INDEX passwordless_devices_by_user ON passwordless_devices (user_id);
CREATE INDEX passwordless_devices_by_expiry ON passwordless_devices (expires_at_ms);

-- Phone numbers (E.164) of login methods: one passwordless account per number and tenant.
ALTER TABLE login_methods ADD COLUMN phone_number TEXT;
CREATE UNIQUE INDEX login_methods_phone ON login_methods (recipe_id, tenant_id, phone_number);
CREATE INDEX login_methods_by_phone ON login_methods (phone_number);
