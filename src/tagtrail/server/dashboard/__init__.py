"""The dashboard served at `/` (docs/dashboard.md): pages rendered on the server with Jinja2 and
inline SVG charts (`charts.py`), shared with `tagtrail report --html`."""

from __future__ import annotations
