-- Dashboard rollups (issue 7), kept by tagtrail.store.rollups: human and bot clicks per link and
-- UTC day (`changed`: the change counter when the row last changed), who clicked (human clicks:
-- the recipient, else the visitor hash) per link and per campaign with the first and last day
-- they did (and the recipient's id, for looking their clicks up), and how many they are. `rollup_marks` holds the largest click id folded in (`clicks`)
-- and the change counter (`changes`); a change to folded clicks recounts the rows it touches in
-- the same transaction.
-- The `journeys` version is bumped when collected rows are removed (the dashboard's journeys
-- snapshot then reloads). Placeholders: {pk} an auto-numbered primary key, {ts} a UTC timestamp.

CREATE TABLE click_days (
    link_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    human BIGINT NOT NULL,
    bot BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    PRIMARY KEY (link_id, day)
);
CREATE INDEX click_days_day ON click_days (day, changed);

CREATE TABLE link_visitors (
    link_id BIGINT NOT NULL,
    who TEXT NOT NULL,
    recipient_id BIGINT,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (link_id, who)
);

CREATE TABLE campaign_visitors (
    campaign_id BIGINT NOT NULL,
    who TEXT NOT NULL,
    recipient_id BIGINT,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (campaign_id, who)
);

CREATE TABLE link_uniques (
    link_id BIGINT PRIMARY KEY,
    visitors BIGINT NOT NULL
);

CREATE TABLE campaign_uniques (
    campaign_id BIGINT PRIMARY KEY,
    visitors BIGINT NOT NULL
);

CREATE TABLE rollup_marks (
    name TEXT PRIMARY KEY,
    mark BIGINT NOT NULL
);
INSERT INTO rollup_marks (name, mark) VALUES ('clicks', 0);
INSERT INTO rollup_marks (name, mark) VALUES ('changes', 0);
INSERT INTO settings_versions (name, version) VALUES ('journeys', 0);
