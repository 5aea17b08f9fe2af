"""Issues the link builder reports: one code each, with a level, a message and a suggestion.

The codes are a contract (scripts match on them); the messages are for people and may improve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tagtrail.types import Level

#: Every code the builder and linter can report, with its level and what it means.
CODES: dict[str, tuple[Level, str]] = {
    "E_SCHEME_MISSING": ("error", "the URL has no scheme"),
    "E_SCHEME_UNSUPPORTED": ("error", "the scheme is not http or https"),
    "E_URL_INVALID": ("error", "the URL has no host or an invalid one"),
    "E_URL_CREDENTIALS": ("error", "the URL carries a user name or password"),
    "E_MISSING_SOURCE": ("error", "no utm_source given or present in the URL"),
    "E_MISSING_MEDIUM": ("error", "no utm_medium given or present in the URL"),
    "E_EMPTY_VALUE": ("error", "a value is empty after normalisation"),
    "E_INVALID_ID": ("error", "utm_id is not 1-100 of A-Z a-z 0-9 . _ -"),
    "E_VALUE_NOT_ALLOWED": ("error", "a value is not on the naming policy's allowed list"),
    "E_VALUE_REQUIRED": ("error", "the naming policy requires a value that is missing"),
    "E_VALUE_TOO_LONG": ("error", "a value is longer than the naming policy allows"),
    "W_INSECURE_HTTP": ("warning", "the destination uses http, not https"),
    "W_APP_STORE_URL": ("warning", "the destination is an app store page"),
    "W_UTM_REPLACED": ("warning", "an existing utm_* value was replaced"),
    "W_DUPLICATE_UTM": ("warning", "a utm_* name occurs more than once"),
    "W_UTM_IN_FRAGMENT": ("warning", "utm_* pairs were found after #"),
    "W_UTM_NAME_CASE": ("warning", "a UTM name is not lower-case"),
    "W_CLICK_ID_REMOVED": ("warning", "an ad click id was removed"),
    "W_MISSING_CAMPAIGN": ("warning", "neither utm_campaign nor utm_id is set"),
    "W_DOMAIN_AS_SOURCE": ("warning", "the source looks like a domain name"),
    "W_UNASSIGNED": ("warning", "GA4 would put this link in Unassigned"),
    "W_CAMPAIGN_OVERRIDES_CHANNEL": ("warning", "the campaign name changes the channel"),
    "W_SOURCE_OVERRIDES_MEDIUM": ("warning", "the source changes the channel the medium names"),
    "W_URL_TOO_LONG": ("warning", "the URL is longer than GA4 keeps (1,000 characters)"),
    "I_NORMALIZED": ("info", "a value was normalised"),
    "I_URL_NORMALIZED": ("info", "the URL was normalised"),
    "I_IDN_ENCODED": ("info", "the host was converted to punycode"),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a link: what (`code`), how bad (`level`), where (`field`), what to do.

    `fix` is the value the builder suggests for `field` (used to print a corrected command);
    it is not part of the JSON contract.
    """

    code: str
    level: Level
    field: str | None
    message: str
    suggestion: str | None = None
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "field": self.field,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def issue(
    code: str,
    field: str | None,
    message: str,
    suggestion: str | None = None,
    *,
    fix: str | None = None,
) -> Issue:
    """Make an issue of a known code (its level comes from `CODES`)."""
    return Issue(code, CODES[code][0], field, message, suggestion, fix)
