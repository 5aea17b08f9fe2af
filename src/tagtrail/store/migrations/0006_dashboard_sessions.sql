-- Dashboard sign-ins, so that signing out ends one (issue 16 item 7): the signed `tt_session`
-- cookie carries a random session id and this table its SHA-256 (a copy of the table gives no
-- cookie); `POST /logout` deletes the row, and a cookie whose row is gone is refused even
-- within its 12 hours. Revoking the admin key ends its sessions as before.
-- Placeholders: {pk} an auto-numbered primary key, {ts} a UTC timestamp.

CREATE TABLE dashboard_sessions (
    id TEXT PRIMARY KEY,
    created_at {ts} NOT NULL,
    key_id BIGINT NOT NULL REFERENCES api_keys (id)
);
CREATE INDEX dashboard_sessions_created ON dashboard_sessions (created_at);
