-- Dashboard sessions (contract section 14), kept in the database so that they survive a
-- restart and hold across every process on one PostgreSQL database. The cookie carries a
-- random token; only its SHA-256 is stored, so a copy of the database signs nobody in.
-- `csrf_token` is the session's anti-forgery token, checked on every changing form.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user_id ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
