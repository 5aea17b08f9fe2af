-- The identity mapping as data (docs/collect.md, "Identity as data"). Kept by
-- tagtrail.store.identities: each fold reads the rows committed since its marks (`rollup_marks`
-- rows named `identity:<table>`), adds their identity facts to `identity_edges` (one row per
-- distinct fact, with its earliest time) and resolves again only the clusters they touch.
--
-- A cluster is every id linked by any fact, merged or refused: the ids whose resolution can
-- depend on one another. Identity ids are never NULL; the key columns of an edge use '' for
-- "no id" so that the unique index also folds repeated facts.

CREATE TABLE identity_edges (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    previous_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    timestamp {ts} NOT NULL,
    cluster BIGINT NOT NULL
);

CREATE UNIQUE INDEX identity_edges_fact ON identity_edges
    (workspace_id, kind, anonymous_id, user_id, previous_id, recipient);

CREATE INDEX identity_edges_cluster ON identity_edges (workspace_id, cluster);

CREATE TABLE identity_nodes (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    identity TEXT NOT NULL,
    cluster BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, kind, id)
);

CREATE INDEX identity_nodes_identity ON identity_nodes (workspace_id, identity);

CREATE INDEX identity_nodes_cluster ON identity_nodes (workspace_id, cluster);

CREATE TABLE identity_conflicts (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    cluster BIGINT NOT NULL,
    timestamp {ts} NOT NULL,
    kind TEXT NOT NULL,
    conflict_id TEXT NOT NULL,
    kept TEXT NOT NULL,
    refused TEXT NOT NULL,
    fact TEXT NOT NULL
);

CREATE INDEX identity_conflicts_cluster ON identity_conflicts (workspace_id, cluster);

-- One identity's rows, for profiles read without loading the workspace.
CREATE INDEX events_anonymous ON events (workspace_id, anonymous_id);

CREATE INDEX touchpoints_user ON touchpoints (workspace_id, user_id);

CREATE INDEX touchpoints_anonymous ON touchpoints (workspace_id, anonymous_id);

CREATE INDEX touchpoints_recipient ON touchpoints (workspace_id, recipient);

-- The fold's marks: the largest id of each table whose identity facts are in the mapping. A store
-- that already holds events starts at 0: `tagtrail migrate` folds it (resumable, with progress).
INSERT INTO rollup_marks (name, mark) VALUES ('identity:events', 0);

INSERT INTO rollup_marks (name, mark) VALUES ('identity:identity_facts', 0);

INSERT INTO rollup_marks (name, mark) VALUES ('identity:touchpoints', 0);

INSERT INTO rollup_marks (name, mark) VALUES ('identity:clicks', 0);

INSERT INTO rollup_marks (name, mark) VALUES ('identity:clusters', 0);
