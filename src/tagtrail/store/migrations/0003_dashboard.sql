-- Dashboard rollups (issue 7), kept by tagtrail.store.rollups: human and bot clicks per link and
-- UTC day, and who clicked (human clicks: the recipient, else the visitor hash) per link and per
-- campaign with the first and last day they did. `rollup_marks` holds the largest click id folded
-- in; a change to folded clicks recounts the rows it touches in the same transaction.
-- The `journeys` version is bumped when collected rows are removed (the dashboard's journeys
-- snapshot then reloads). Placeholders: {pk} an auto-numbered primary key, {ts} a UTC timestamp.

CREATE TABLE click_days (
    link_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    human BIGINT NOT NULL,
    bot BIGINT NOT NULL,
    PRIMARY KEY (link_id, day)
);

CREATE TABLE link_visitors (
    link_id BIGINT NOT NULL,
    who TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (link_id, who)
);

CREATE TABLE campaign_visitors (
    campaign_id BIGINT NOT NULL,
    who TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (campaign_id, who)
);

CREATE TABLE rollup_marks (
    name TEXT PRIMARY KEY,
    mark BIGINT NOT NULL
);
INSERT INTO rollup_marks (name, mark) VALUES ('clicks', 0);
INSERT INTO settings_versions (name, version) VALUES ('journeys', 0);
