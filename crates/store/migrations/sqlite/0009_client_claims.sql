-- 0009 the claims a relying party's purpose allows, when narrower than its
-- scopes carry (JSON list; NULL: every claim of its scopes). A family portal
-- registered for `profile` need not receive `locale`.
ALTER TABLE clients ADD COLUMN claims TEXT;
