-- Indexes for the lookups that had none and for the expiry sweeps of `bastion cleanup`,
-- which deletes in small batches ordered by nothing but expires_at_ms.
CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms);
CREATE INDEX sessions_by_recipe_user ON sessions (recipe_user_id);
CREATE INDEX user_tokens_by_expiry ON user_tokens (expires_at_ms);
CREATE INDEX login_methods_by_tenant ON login_methods (tenant_id, user_id);
