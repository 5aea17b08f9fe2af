-- The public origin of the workspace's short links, as the last `tagtrail serve` on this store
-- was started with (its --base-url, or http://HOST:PORT of its bind). The CLI and the MCP
-- server read it for the short URLs they print, so a link made while the server runs on
-- another port or domain is printed with the address that answers it. NULL until a server has
-- run on the store.

ALTER TABLE workspaces ADD COLUMN base_url TEXT;
