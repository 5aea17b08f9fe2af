from __future__ import annotations

from pathlib import Path

import pytest

from tagtrail.errors import PolicyError
from tagtrail.links import PRESETS, build_link, load_policy
from tagtrail.links.policy import policy_from_mapping


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tagtrail.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_separator_and_allowed_values(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            """
[naming]
separator = "_"
required = ["campaign", "content"]

[naming.allowed]
medium = ["email", "sms", "paid social"]
""",
        )
    )
    ok = build_link(
        "https://example.com/",
        source="news letter",
        medium="email",
        campaign="Spring Sale",
        content="Hero",
        policy=policy,
    )
    assert ok.status == "ok", ok.issues
    assert ok.tracked_url is not None and "utm_source=news_letter" in ok.tracked_url
    assert "utm_campaign=spring_sale" in ok.tracked_url
    assert policy.allowed["medium"] == frozenset({"email", "sms", "paid_social"})

    bad = build_link(
        "https://example.com/", source="x", medium="emial", campaign="c", policy=policy
    )
    issue = next(i for i in bad.issues if i.code == "E_VALUE_NOT_ALLOWED")
    assert issue.fix == "email" and "did you mean `email`" in (issue.suggestion or "")
    assert next(i for i in bad.issues if i.code == "E_VALUE_REQUIRED").field == "content"


def test_case_can_be_kept_and_length_limited() -> None:
    policy = policy_from_mapping({"naming": {"lowercase": False, "max_length": 5}})
    result = build_link(
        "https://example.com/", source="Acme", medium="email", campaign="Toolong", policy=policy
    )
    assert result.utm["source"] == "Acme"
    assert [i.field for i in result.issues if i.code == "E_VALUE_TOO_LONG"] == ["campaign"]


def test_custom_presets_extend_the_built_in_ones(tmp_path: Path) -> None:
    policy = load_policy(
        write(tmp_path, '[presets.acme-news]\nsource = "acme"\nmedium = "email"\n')
    )
    assert policy.preset("acme-news").source == "acme"
    assert set(PRESETS) < set(policy.presets)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[naming]\nseparator = '+'\n", "separator must be one of"),
        ("[naming]\ncolour = 'red'\n", "unknown [naming] key(s): colour"),
        ("[naming]\nlowercase = 'yes'\n", "lowercase must be true or false"),
        ("[naming]\nmax_length = 0\n", "max_length must be a positive"),
        ("[naming]\nrequired = ['colour']\n", "required must be a list of"),
        ("[naming.allowed]\nid = ['a']\n", "cannot list 'id'"),
        ("[naming.allowed]\nmedium = 'email'\n", "must be a list of strings"),
        ("[presets.x]\nsource = 'a'\n", "needs string `source` and `medium`"),
        ("naming = 3\n", "must be a table"),
        ("[naming\n", "not valid TOML"),
    ],
)
def test_malformed_policies_are_refused_clearly(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    assert fragment in str(caught.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "nope.toml")


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_mapping({}).preset("intercomm")
    assert caught.value.hint is not None and "intercom" in caught.value.hint


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path)
