"""`build_link`: a destination URL and UTM values in; a tracked URL and its issues out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus

from tagtrail.links.issues import Issue, issue, sort_issues
from tagtrail.links.policy import DEFAULT_POLICY, FIELDS, NamingPolicy
from tagtrail.links.predict import predict_channel
from tagtrail.links.urls import APP_STORE_HOSTS, SplitUrl, split_url
from tagtrail.links.values import encode_value, is_valid_id
from tagtrail.types import Status

#: `utm_<field>` for every field, in the order the builder writes them.
UTM_NAMES: dict[str, str] = {f"utm_{f}": f for f in FIELDS}
#: Ad-platform click ids a built link must not carry (matched case-insensitively).
CLICK_IDS = frozenset(
    "gclid gbraid wbraid dclid gclsrc fbclid msclkid ttclid twclid li_fat_id sccid epik rdt_cid "
    "yclid srsltid".split()
)
MAX_URL_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What `build_link` returns. `utm` holds the final (decoded) value of every UTM field set."""

    status: Status
    tracked_url: str | None
    channel: str | None
    issues: tuple[Issue, ...]
    utm: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "tracked_url": self.tracked_url,
            "channel": self.channel,
            "issues": [i.to_json() for i in self.issues],
        }


def build_link(
    url: str,
    *,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    id: str | None = None,  # noqa: A002 - the contract's name for utm_id
    term: str | None = None,
    content: str | None = None,
    source_platform: str | None = None,
    creative_format: str | None = None,
    marketing_tactic: str | None = None,
    policy: NamingPolicy | None = None,
) -> BuildResult:
    """Build the tracked URL for `url` with the given UTM values.

    Values given here override the URL's own `utm_*` parameters; the URL's other query pieces
    are kept byte-for-byte. Nothing is raised for bad input: problems come back as issues, and
    `tracked_url` is None when any of them is an error.
    """
    supplied = {
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "id": id,
        "term": term,
        "content": content,
        "source_platform": source_platform,
        "creative_format": creative_format,
        "marketing_tactic": marketing_tactic,
    }
    return _build(url, {k: v for k, v in supplied.items() if v is not None}, policy)


def _build(url: str, supplied: Mapping[str, str], policy: NamingPolicy | None) -> BuildResult:
    policy = policy or DEFAULT_POLICY
    found: list[Issue] = []
    split = split_url(url)
    existing: dict[str, str] = {}
    if isinstance(split, Issue):
        found.append(split)
        parts = None
    else:
        found.extend(split.issues)
        parts = _take_utms(split, existing, found)
    values = _values(existing, supplied, policy, found)
    _check_policy(values, policy, found)
    channel = predict_channel(values, found)
    tracked = None
    if parts is not None and not any(i.level == "error" for i in found):
        assert not isinstance(split, Issue)
        tracked = _assemble(split, parts, values)
        if split.scheme == "http":
            found.append(_insecure(tracked))
        if split.host in APP_STORE_HOSTS:
            found.append(_app_store(split.host))
        if len(tracked) > MAX_URL_LENGTH:
            found.append(
                issue(
                    "W_URL_TOO_LONG",
                    "url",
                    f"the tracked URL has {len(tracked):,} characters; GA4 cuts page_location at "
                    f"{MAX_URL_LENGTH:,}, which can cut off the UTMs",
                    "shorten the destination's own query string or the UTM values",
                )
            )
    issues = sort_issues(found)
    status: Status = "ok"
    if any(i.level == "error" for i in issues):
        status, tracked = "error", None
    elif any(i.level == "warning" for i in issues):
        status = "warning"
    return BuildResult(status, tracked, channel, issues, MappingProxyType(values))


def _take_utms(split: SplitUrl, existing: dict[str, str], found: list[Issue]) -> list[str]:
    """Remove UTM pairs, wrong-case UTM names and click ids; return the query pieces kept."""
    kept: list[str] = []
    seen: set[str] = set()
    for piece in split.query:
        if not _take(piece, existing, seen, found):
            kept.append(piece)
    fragment = split.fragment
    if fragment and "utm_" in fragment.lower():
        rest = [p for p in fragment.split("&") if not _take(p, existing, seen, found)]
        if len(rest) != fragment.count("&") + 1:
            found.append(
                issue(
                    "W_UTM_IN_FRAGMENT",
                    "url",
                    "UTM parameters after `#` never reach GA4; they were moved to the query",
                    "put utm_* parameters in the query string (before any #)",
                )
            )
            split.fragment = "&".join(rest) or None
    return kept


def _take(piece: str, existing: dict[str, str], seen: set[str], found: list[Issue]) -> bool:
    """Record `piece` if it is a UTM pair or click id (True: drop it from the URL)."""
    name, _, raw = piece.partition("=")
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    if name in UTM_NAMES:
        if name in seen:
            found.append(
                issue(
                    "W_DUPLICATE_UTM",
                    UTM_NAMES[name],
                    f"`{name}` occurs more than once; the last value counts (as in GA4)",
                    f"keep a single {name}",
                )
            )
        seen.add(name)
        existing[UTM_NAMES[name]] = unquote_plus(raw)
        return True
    lower = name.lower()
    if lower in UTM_NAMES:
        found.append(
            issue(
                "W_UTM_NAME_CASE",
                UTM_NAMES[lower],
                f"`{name}` is not lower-case, so GA4 ignores it; it was removed",
                f"write it as `{lower}`",
            )
        )
        return True
    if lower in CLICK_IDS:
        found.append(
            issue(
                "W_CLICK_ID_REMOVED",
                "url",
                f"the URL carries the ad click id `{name}`; it was removed so that a stale id "
                "does not override this link's UTMs",
                "build links from the clean landing-page URL",
            )
        )
        return True
    return False


def _values(
    existing: Mapping[str, str],
    supplied: Mapping[str, str],
    policy: NamingPolicy,
    found: list[Issue],
) -> dict[str, str]:
    """The final value of each UTM field: supplied ones win over the URL's, all normalised."""
    values: dict[str, str] = {}
    for name in FIELDS:
        given = name in supplied
        raw = supplied[name] if given else existing.get(name)
        if raw is None:
            continue
        value = _normalise(name, raw, given, policy, found)
        if value is None:
            continue
        if given and name in existing:
            before = _quiet_normalise(name, existing[name], policy)
            if before != value:
                found.append(
                    issue(
                        "W_UTM_REPLACED",
                        name,
                        f"the URL's utm_{name}=`{before}` was replaced by `{value}`",
                        f"drop utm_{name} from the destination URL, or leave --{_flag(name)} out",
                    )
                )
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
    return values


def _normalise(
    name: str, raw: str, given: bool, policy: NamingPolicy, found: list[Issue]
) -> str | None:
    if name == "id":
        value = raw.strip()
        if not is_valid_id(value):
            found.append(
                issue(
                    "E_INVALID_ID",
                    "id",
                    f"utm_id `{raw}` must be 1 to 100 of A-Z a-z 0-9 . _ -",
                    "use the id your ad platform or cost import knows, e.g. 2024-q3-onboarding",
                )
            )
            return None
        return value
    value = policy.normalize(raw)
    if not value:
        where = "given" if given else "in the URL"
        found.append(
            issue(
                "E_EMPTY_VALUE",
                name,
                f"utm_{name} `{raw}` ({where}) has no letters or digits left after normalisation",
                f"give a value made of letters and digits for --{_flag(name)}",
            )
        )
        return None
    if value != raw:
        found.append(
            issue(
                "I_NORMALIZED",
                name,
                f"utm_{name} `{raw}` was normalised to `{value}`",
                None,
                fix=value,
            )
        )
    return value


def _quiet_normalise(name: str, raw: str, policy: NamingPolicy) -> str:
    return raw.strip() if name == "id" else policy.normalize(raw)


def _check_policy(values: Mapping[str, str], policy: NamingPolicy, found: list[Issue]) -> None:
    for name in sorted(policy.required - values.keys()):
        if not any(i.field == name for i in found):
            found.append(
                issue(
                    "E_VALUE_REQUIRED",
                    name,
                    f"the naming policy requires utm_{name}",
                    f"add --{_flag(name)}",
                )
            )
    for name, value in values.items():
        allowed = policy.allowed.get(name)
        if allowed is not None and value not in allowed:
            close = _closest(value, allowed)
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
                    f"utm_{name} has {len(value)} characters; the policy allows "
                    f"{policy.max_length}",
                    "shorten it",
                )
            )


def _closest(value: str, allowed: frozenset[str]) -> str | None:
    from difflib import get_close_matches

    matches = get_close_matches(value, sorted(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _assemble(split: SplitUrl, kept: list[str], values: Mapping[str, str]) -> str:
    pieces = kept + [f"utm_{n}={encode_value(values[n])}" for n in FIELDS if n in values]
    url = split.origin()
    if pieces:
        url += "?" + "&".join(pieces)
    if split.fragment is not None:
        url += "#" + split.fragment
    return url


def _insecure(tracked: str) -> Issue:
    secure = "https" + tracked[4:]
    return issue(
        "W_INSECURE_HTTP",
        "url",
        "the destination uses http: the visit arrives without a referrer from https pages and "
        "can be intercepted",
        f"use https: {secure}",
    )


def _app_store(host: str) -> Issue:
    return issue(
        "W_APP_STORE_URL",
        "url",
        f"{host} drops utm_* parameters: installs will not be attributed to this campaign",
        "use the store's own campaign parameters (Google Play referrer, App Store ct/pt) "
        "or link to a web page that forwards to the store",
    )


def _flag(name: str) -> str:
    return name.replace("_", "-")
