-- A short-link click's touchpoint lives in its click row: `clicks.url` is the landing URL of a
-- human click (the redirect's Location without the identity hint; NULL for a bot click), and the
-- touchpoint is derived from it when journeys are read (tagtrail.service.collected). The
-- `touchpoints` rows the redirect used to write for human clicks (message id `click:...`, kind
-- `click`) give their URL to their click (same visitor and time, same workspace through the
-- link) and are removed; imported journey touches (kind `page`) stay.
-- `substr(message_id, 1, 6) = 'click:'` is `message_id LIKE 'click:%'` without a `%`, which the
-- PostgreSQL driver would read as a parameter mark. The index exists only for the backfill.

ALTER TABLE clicks ADD COLUMN url TEXT;

CREATE INDEX touchpoints_click_backfill ON touchpoints (visitor, timestamp);

UPDATE clicks SET url = (
    SELECT t.url
    FROM touchpoints t, links l
    WHERE t.visitor = clicks.visitor
      AND t.timestamp = clicks.clicked_at
      AND t.kind = 'click'
      AND substr(t.message_id, 1, 6) = 'click:'
      AND l.id = clicks.link_id
      AND t.workspace_id = l.workspace_id
    ORDER BY t.id
    LIMIT 1
)
WHERE is_bot = FALSE;

DELETE FROM touchpoints WHERE kind = 'click' AND substr(message_id, 1, 6) = 'click:';

DROP INDEX touchpoints_click_backfill;
