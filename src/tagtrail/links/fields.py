"""The UTM values of a link: normalised, checked against the naming policy, completed.

Each field's verdict depends only on (field, raw value, supplied or kept, policy), so it is
memoised: the rows of a bulk sheet repeat the same few hundred values a million times.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from functools import lru_cache

from tagtrail.links.issues import Issue, issue
from tagtrail.links.policy import FIELDS, NamingPolicy
from tagtrail.links.values import is_valid_id


def resolve_values(
    existing: Mapping[str, str], supplied: Mapping[str, str], policy: NamingPolicy
) -> tuple[dict[str, str], list[Issue]]:
    """The final value of each UTM field (supplied ones win over the URL's) and the issues."""
    values: dict[str, str] = {}
    found: list[Issue] = []
    for name in FIELDS:
        given = name in supplied
        raw = supplied[name] if given else existing.get(name)
        if raw is None:
            continue
        value, issues = field_value(name, raw, given, policy)
        found.extend(issues)
        if value is None:
            continue
        if given and name in existing:
            before = field_value(name, existing[name], False, policy)[0] or existing[name]
            if before != value:
                found.append(_replaced(name, before, value))
        values[name] = value
    for name, code in (("source", "E_MISSING_SOURCE"), ("medium", "E_MISSING_MEDIUM")):
        if name not in values and not any(i.field == name for i in found):
            found.append(
                issue(
                    code,
                    name,
                    f"utm_{name} is required and was neither given nor found in the URL",
                    f"add --{name} (or a --preset such as intercom or instasent)",
                )
            )
    for name in sorted(policy.required - values.keys()) if policy.required else ():
        if not any(i.field == name for i in found):
            found.append(
                issue(
                    "E_VALUE_REQUIRED",
                    name,
                    f"the naming policy requires utm_{name}",
                    f"add --{flag(name)}",
                )
            )
    if "campaign" not in values and "id" not in values:
        found.append(
            issue(
                "W_MISSING_CAMPAIGN",
                "campaign",
                "the link has neither utm_campaign nor utm_id, so reports cannot tell campaigns "
                "apart",
                "add --campaign (e.g. --campaign onboarding-series)",
            )
        )
    return values, found


@lru_cache(maxsize=65536)
def field_value(
    name: str, raw: str, given: bool, policy: NamingPolicy
) -> tuple[str | None, tuple[Issue, ...]]:
    """One field's normalised value (None when unusable) and what was found on the way."""
    if name == "id":
        value = raw.strip()
        if is_valid_id(value):
            return value, ()
        return None, (
            issue(
                "E_INVALID_ID",
                "id",
                f"utm_id `{raw}` must be 1 to 100 of A-Z a-z 0-9 . _ -",
                "use the id your ad platform or cost import knows, e.g. 2024-q3-onboarding",
            ),
        )
    value = policy.normalize(raw)
    if not value:
        where = "given" if given else "in the URL"
        return None, (
            issue(
                "E_EMPTY_VALUE",
                name,
                f"utm_{name} `{raw}` ({where}) has no letters or digits left after normalisation",
                f"give a value made of letters and digits for --{flag(name)}",
            ),
        )
    found: list[Issue] = []
    if value != raw:
        found.append(
            issue(
                "I_NORMALIZED",
                name,
                f"utm_{name} `{raw}` was normalised to `{value}`",
                fix=value,
            )
        )
    allowed = policy.allowed.get(name)
    if allowed is not None and value not in allowed:
        matches = get_close_matches(value, sorted(allowed), n=1, cutoff=0.6)
        close = matches[0] if matches else None
        found.append(
            issue(
                "E_VALUE_NOT_ALLOWED",
                name,
                f"utm_{name} `{value}` is not on the naming policy's list",
                (f"did you mean `{close}`? " if close else "")
                + "allowed: "
                + ", ".join(sorted(allowed)),
                fix=close,
            )
        )
    if policy.max_length is not None and len(value) > policy.max_length:
        found.append(
            issue(
                "E_VALUE_TOO_LONG",
                name,
                f"utm_{name} has {len(value)} characters; the policy allows {policy.max_length}",
                "shorten it",
            )
        )
    return value, tuple(found)


def _replaced(name: str, before: str, value: str) -> Issue:
    return issue(
        "W_UTM_REPLACED",
        name,
        f"the URL's utm_{name}=`{before}` was replaced by `{value}`",
        f"drop utm_{name} from the destination URL, or leave --{flag(name)} out",
    )


def flag(name: str) -> str:
    """The CLI option that sets a field: `source_platform` → `source-platform`."""
    return name.replace("_", "-")
