DROP TABLE login_attempts;
DROP INDEX refresh_tokens_user_id;
ALTER TABLE refresh_tokens DROP COLUMN used_at;
DROP INDEX users_normalized_username;
ALTER TABLE users DROP COLUMN username_key;
