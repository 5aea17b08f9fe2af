"""Names `make lint`'s vulture cannot see used (read with `vulture`, never imported)."""

# ruff: noqa
_ = object()

_._jvm  # pyspark's gateway, reached through the session (attribution/spark_engine.py)
_._pool  # httpcore's connection pool attribute, set on the guarded transport (check/transport.py)
_.redirect_slashes  # Starlette's Router reads it (server/slashes.py)
rsgi_app  # Granian imports it by name, `tagtrail.server.factory:rsgi_app` (cli/serve.py)
_.isolation_level  # set on the sqlite3 connection so SQLAlchemy, not the driver, begins
# Profile fields: written out by dataclasses.asdict in the profile's JSON (collect/profiles.py)
initial_utm_content
initial_utm_term
last_utm_medium
last_utm_campaign
last_utm_content
last_utm_term
last_referrer
# Segment payload fields: parsed and validated by pydantic (collect/schema.py)
userAgent
messageId
anonymousId
userId
writeKey
groupId
previousId
ignored_columns  # a field of the API's import answer (server/api/models.py)
rollup_marks  # a table the rollups reach in SQL text (store/rollups.py)
expired  # nginx ports filled from the map that also writes nginx.conf (tests/check/loopback.py)
wrong_host
# html.parser.HTMLParser calls these (messages/html.py)
_.handle_startendtag
_.handle_endtag
_.handle_data
