"""The HTML of the dashboard and of `tagtrail report`: templates, stylesheet and script."""

from __future__ import annotations
