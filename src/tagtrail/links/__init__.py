"""Build, normalise and lint UTM campaign links (pure: no I/O, no clock, no network)."""

from __future__ import annotations

from tagtrail.links.build import BuildResult, build_from, build_link
from tagtrail.links.destination import CLICK_IDS, UTM_NAMES
from tagtrail.links.issues import CODES, Issue
from tagtrail.links.lint import LintResult, lint_link
from tagtrail.links.policy import DEFAULT_POLICY, FIELDS, NamingPolicy, load_policy
from tagtrail.links.presets import PRESETS, Preset
from tagtrail.links.values import normalize_value

__all__ = [
    "CLICK_IDS",
    "CODES",
    "DEFAULT_POLICY",
    "FIELDS",
    "PRESETS",
    "UTM_NAMES",
    "BuildResult",
    "Issue",
    "LintResult",
    "NamingPolicy",
    "Preset",
    "build_from",
    "build_link",
    "lint_link",
    "load_policy",
    "normalize_value",
]
