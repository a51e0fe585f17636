-- 0016 signing algorithms: the key ring holds ES256, PS256 and RS256 keys,
-- each with its own next, current and previous keys, so one current and
-- one next key per algorithm (the indexes were per state). A relying party
-- chooses the algorithm of its ID tokens and logout tokens
-- (`id_token_signed_response_alg`); those registered before keep ES256,
-- the only one there was.
DROP INDEX signing_keys_one_current;
DROP INDEX signing_keys_one_next;
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';

ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256'
    CHECK (id_token_signed_response_alg IN ('ES256', 'PS256', 'RS256'));
