-- Campaign messages (DESIGN §9): a message body with its tracked positions, one short link per
-- position, and one row per (message, recipient) holding the recipient part of their codes, so
-- a newsletter to 100k recipients with 30 links adds 100k rows, not 3M.
-- A recipient's address (email or E.164 phone) is kept sealed with AES-GCM (never in clear), for
-- the admins' "who clicked" list; the recipient is still found by its keyed hash (`key`).

ALTER TABLE recipients ADD COLUMN address TEXT;

CREATE TABLE messages (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    positions TEXT NOT NULL,
    holdout DOUBLE PRECISION,
    created_at {ts} NOT NULL
);

CREATE TABLE message_links (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    position INTEGER NOT NULL,
    link_id BIGINT NOT NULL REFERENCES links (id),
    text TEXT,
    PRIMARY KEY (message_id, position)
);

CREATE TABLE message_recipients (
    id {pk},
    message_id BIGINT NOT NULL REFERENCES messages (id),
    recipient_id BIGINT NOT NULL REFERENCES recipients (id),
    code TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    UNIQUE (message_id, recipient_id)
);
