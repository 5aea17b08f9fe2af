-- The online store: workspaces, keys, campaigns, links, recipients, sends and clicks.
-- Placeholders: {pk} an auto-numbered primary key, {ts} a UTC timestamp.

CREATE TABLE workspaces (
    id {pk},
    name TEXT NOT NULL,
    default_utm TEXT NOT NULL DEFAULT '{}',
    identify BOOLEAN NOT NULL DEFAULT TRUE,
    excluded_domains TEXT NOT NULL DEFAULT '[]',
    created_at {ts} NOT NULL
);

CREATE TABLE api_keys (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    revoked_at {ts}
);

CREATE TABLE campaigns (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    default_utm TEXT NOT NULL DEFAULT '{}',
    created_at {ts} NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE links (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    code TEXT NOT NULL UNIQUE,
    destination TEXT NOT NULL,
    campaign_id BIGINT REFERENCES campaigns (id),
    utm TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]',
    forward_query BOOLEAN NOT NULL DEFAULT FALSE,
    honeypot BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at {ts},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);

CREATE TABLE recipients (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    public_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at {ts} NOT NULL,
    UNIQUE (workspace_id, kind, key)
);

CREATE TABLE sends (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    recipient_id BIGINT NOT NULL REFERENCES recipients (id),
    campaign_id BIGINT REFERENCES campaigns (id),
    message TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    sent_at {ts} NOT NULL
);
CREATE INDEX sends_recipient ON sends (recipient_id, sent_at);

CREATE TABLE clicks (
    id {pk},
    link_id BIGINT NOT NULL REFERENCES links (id),
    clicked_at {ts} NOT NULL,
    recipient_id BIGINT REFERENCES recipients (id),
    ip TEXT,
    user_agent TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT 'GET',
    is_bot BOOLEAN NOT NULL DEFAULT FALSE,
    bot_reasons TEXT NOT NULL DEFAULT '',
    visitor TEXT NOT NULL DEFAULT '',
    identified BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX clicks_link_time ON clicks (link_id, clicked_at);
CREATE INDEX clicks_recipient ON clicks (recipient_id);

CREATE TABLE settings_versions (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO settings_versions (name, version) VALUES ('links', 0);
