-- Usernames are unique after Unicode NFKC and lower-casing (contract v1.1 section 4). The
-- key is computed in Rust (SQL has no NFKC that agrees with it); the server fills it for
-- rows stored before this migration when it starts. NULL until then: NULLs never collide.
ALTER TABLE users ADD COLUMN username_key TEXT;
CREATE UNIQUE INDEX users_normalized_username ON users (username_key);

-- When a refresh token was first exchanged, for the grace window (section 3).
ALTER TABLE refresh_tokens ADD COLUMN used_at BIGINT;
-- Ending every login of a user (disable, new password, logout all).
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

-- Login attempts in the sliding 15-minute window, shared by every process on the database.
-- A row is written before the password is checked and deleted when the login succeeds, so
-- the rows in the window are the failures plus the attempts in flight. Keys are SHA-256
-- hashes: bounded in size, and no username or address is kept in clear.
CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    username_key TEXT NOT NULL,
    client_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username_key, at);
CREATE INDEX login_attempts_client ON login_attempts (client_key, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
