-- 0018 an authorization request about one citizen in particular: the
-- pairwise `sub` the relying party named (in an `id_token_hint`, or as the
-- value of `sub` in the `claims` parameter), so that sqin answers it only
-- for that citizen, after a new sign-in too (OIDC Core 3.1.2.1, 5.5.1).
-- The relying party's own identifier, which it already holds; kept only as
-- long as the pending request.
-- Never edit once released; add a new numbered file instead.
ALTER TABLE auth_requests ADD COLUMN subject_hint TEXT;
