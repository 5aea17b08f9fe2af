-- Holdouts (DESIGN §10): a send may be held out (recorded so the recipient has a time anchor,
-- never given a link); a campaign may hold out a share of its recipients; a workspace may keep a
-- global control group held out of every campaign. Shares are fractions in [0, 1).

ALTER TABLE sends ADD COLUMN held_out BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE campaigns ADD COLUMN holdout DOUBLE PRECISION NOT NULL DEFAULT 0;

ALTER TABLE workspaces ADD COLUMN global_holdout DOUBLE PRECISION NOT NULL DEFAULT 0;

CREATE INDEX sends_campaign ON sends (campaign_id, recipient_id, sent_at);
