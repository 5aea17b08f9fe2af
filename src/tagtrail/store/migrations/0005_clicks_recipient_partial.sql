-- Most clicks have no recipient (a link shared without a recipient token), and every NULL took
-- an entry in `clicks_recipient` that no query reads: the redirect's commit wrote one more index
-- page for nothing (bench/redirect.py: the writer process spent ~10% less time a click without
-- it). A partial index keeps only the clicks that have a recipient; a query for
-- `recipient_id = ?` still uses it (both SQLite and PostgreSQL know that equality implies
-- NOT NULL).

DROP INDEX clicks_recipient;

CREATE INDEX clicks_recipient ON clicks (recipient_id) WHERE recipient_id IS NOT NULL;
