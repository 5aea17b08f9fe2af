"""The naming policy: house rules for UTM values, read from `tagtrail.toml`.

```toml
[naming]
separator = "-"          # or "_": what runs of other characters become
lowercase = true         # lower-case every value (GA4 reports keep case)
max_length = 100         # longest value allowed
required = ["campaign"]  # fields every link must carry

[naming.allowed]         # closed vocabularies, compared after normalisation
medium = ["email", "sms", "cpc", "social"]

[presets.acme-newsletter]
source = "acme"
medium = "email"
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tagtrail.errors import PolicyError
from tagtrail.links.presets import PRESETS, Preset
from tagtrail.links.values import normalize_value

#: The fields a policy may name, as `build_link` keyword arguments.
FIELDS = (
    "source",
    "medium",
    "campaign",
    "id",
    "term",
    "content",
    "source_platform",
    "creative_format",
    "marketing_tactic",
)
_SEPARATORS = ("-", "_")
_NAMING_KEYS = {"separator", "lowercase", "max_length", "required", "allowed"}


@dataclass(frozen=True, slots=True, eq=False)
class NamingPolicy:
    """How values are normalised and which values are allowed (the defaults are DESIGN §4).

    Policies compare (and hash) by identity, so results can be cached per policy.
    """

    separator: str = "-"
    lowercase: bool = True
    max_length: int | None = None
    required: frozenset[str] = frozenset()
    allowed: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    presets: Mapping[str, Preset] = field(default_factory=lambda: MappingProxyType(PRESETS))

    def normalize(self, value: str) -> str:
        return normalize_value(value, self.separator, self.lowercase)

    def preset(self, name: str) -> Preset:
        try:
            return self.presets[name]
        except KeyError:
            raise PolicyError(
                f"unknown preset {name!r}",
                hint="choose one of: " + ", ".join(sorted(self.presets)),
            ) from None


DEFAULT_POLICY = NamingPolicy()


def load_policy(path: str | Path) -> NamingPolicy:
    """Read `[naming]` and `[presets.*]` from a TOML file; raise `PolicyError` on any mistake."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"policy file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    return policy_from_mapping(data, origin=str(path))


def policy_from_mapping(data: Mapping[str, Any], *, origin: str = "policy") -> NamingPolicy:
    naming = _table(data.get("naming", {}), f"{origin}: [naming]")
    unknown = set(naming) - _NAMING_KEYS
    if unknown:
        raise PolicyError(
            f"{origin}: unknown [naming] key(s): {', '.join(sorted(unknown))}",
            hint="allowed keys: " + ", ".join(sorted(_NAMING_KEYS)),
        )
    separator = naming.get("separator", "-")
    if separator not in _SEPARATORS:
        raise PolicyError(f"{origin}: separator must be one of {_SEPARATORS}, not {separator!r}")
    lowercase = naming.get("lowercase", True)
    if not isinstance(lowercase, bool):
        raise PolicyError(f"{origin}: lowercase must be true or false")
    max_length = naming.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise PolicyError(f"{origin}: max_length must be a positive whole number")
    required = naming.get("required", [])
    if not isinstance(required, list) or not all(f in FIELDS for f in required):
        raise PolicyError(f"{origin}: required must be a list of: {', '.join(FIELDS)}")
    allowed_table = _table(naming.get("allowed", {}), f"{origin}: [naming.allowed]")
    allowed: dict[str, frozenset[str]] = {}
    for name, values in allowed_table.items():
        if name not in FIELDS or name == "id":
            raise PolicyError(f"{origin}: [naming.allowed] cannot list {name!r}")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise PolicyError(f"{origin}: [naming.allowed] {name} must be a list of strings")
        allowed[name] = frozenset(normalize_value(v, separator, lowercase) for v in values)
    presets = dict(PRESETS)
    for name, spec in _table(data.get("presets", {}), f"{origin}: [presets]").items():
        table = _table(spec, f"{origin}: [presets.{name}]")
        if not isinstance(table.get("source"), str) or not isinstance(table.get("medium"), str):
            raise PolicyError(f"{origin}: [presets.{name}] needs string `source` and `medium`")
        presets[name] = Preset(
            table["source"], table["medium"], str(table.get("channel", "")), str(name)
        )
    return NamingPolicy(
        separator=separator,
        lowercase=lowercase,
        max_length=max_length,
        required=frozenset(required),
        allowed=MappingProxyType(allowed),
        presets=MappingProxyType(presets),
    )


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where} must be a table")
    return value
