"""Attribution: path rules (R1–R7), every model of DESIGN §7, and the engines that feed them.

The definitions are pure (journeys, heuristics, markov, shapley, billboard); `duckdb_engine`
reads files and builds the paths in SQL; `report` runs models and shapes the JSON.
"""

from __future__ import annotations

from tagtrail.attribution.credit import Credit
from tagtrail.attribution.document import bootstrap, result_document, run_models
from tagtrail.attribution.path_rules import Event, Path, PathRules, build_paths, user_paths
from tagtrail.attribution.paths import Collected, PathTable, collect, decay_weights
from tagtrail.attribution.registry import MODEL_NAMES, MODELS, parse_models

__all__ = [
    "MODELS",
    "MODEL_NAMES",
    "Collected",
    "Credit",
    "Event",
    "Path",
    "PathRules",
    "PathTable",
    "bootstrap",
    "build_paths",
    "collect",
    "decay_weights",
    "parse_models",
    "result_document",
    "run_models",
    "user_paths",
]
