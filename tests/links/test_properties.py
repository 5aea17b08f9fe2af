"""Hypothesis properties of the builder (issue 2): idempotent, lossless, parses back."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from tagtrail.links import FIELDS, build_link
from tagtrail.links.values import normalize_value

_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.[]", min_size=1, max_size=8)
_VALUE = st.text(
    alphabet=st.characters(
        blacklist_characters="&#=", codec="utf-8", blacklist_categories=("Cs", "Cc")
    ),
    max_size=12,
)
_RAW_VALUE = st.text(alphabet="abcXYZ019%+-._~!$'()*,;:@/?", max_size=10)
# Non-UTM query pieces: `name=value`, bare `name`, and `name=` forms, byte-exact.
_PIECE = st.one_of(
    st.builds(lambda n, v: f"{n}={v}", _NAME, _RAW_VALUE),
    _NAME,
    st.builds(lambda n: f"{n}=", _NAME),
).filter(
    lambda p: (
        not p.lower().startswith("utm_")
        and p.split("=")[0].lower()
        not in {
            "gclid",
            "gbraid",
            "wbraid",
            "dclid",
            "gclsrc",
            "fbclid",
            "msclkid",
            "ttclid",
            "twclid",
            "li_fat_id",
            "sccid",
            "epik",
            "rdt_cid",
            "yclid",
            "srsltid",
        }
    )
)
_WORD = st.text(min_size=1, max_size=20).filter(lambda v: normalize_value(v) != "")
_PATH = st.lists(st.text(alphabet="abcxyz019-._~", min_size=1, max_size=6), max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
_FRAGMENT = st.one_of(st.none(), st.text(alphabet="abcxyz019-_/", max_size=8))


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[str]]:
    pieces = draw(st.lists(_PIECE, max_size=5))
    url = "https://example.com" + draw(_PATH)
    if pieces:
        url += "?" + "&".join(pieces)
    fragment = draw(_FRAGMENT)
    if fragment is not None:
        url += "#" + fragment
    return url, pieces


@st.composite
def values(draw: st.DrawFn) -> dict[str, str]:
    chosen = {"source": draw(_WORD), "medium": draw(_WORD)}
    for name in ("campaign", "term", "content"):
        if draw(st.booleans()):
            chosen[name] = draw(_WORD)
    if draw(st.booleans()):
        chosen["id"] = draw(st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True))
    return chosen


@settings(max_examples=300)
@given(urls(), values())
def test_building_a_built_url_changes_nothing(
    url: tuple[str, list[str]], given: dict[str, str]
) -> None:
    first = build_link(url[0], **given)
    assert first.tracked_url is not None, first.issues
    again = build_link(first.tracked_url, **given)
    assert again.tracked_url == first.tracked_url
    assert build_link(first.tracked_url).tracked_url == first.tracked_url


@settings(max_examples=300)
@given(urls(), values())
def test_no_non_utm_query_piece_is_lost_or_reordered(
    url: tuple[str, list[str]], given: dict[str, str]
) -> None:
    result = build_link(url[0], **given)
    assert result.tracked_url is not None
    query = urlsplit(result.tracked_url).query
    kept = [p for p in query.split("&") if p and not p.startswith("utm_")]
    assert kept == [p for p in url[1] if p]


@settings(max_examples=300)
@given(urls(), values())
def test_output_parses_back_to_the_supplied_utms(
    url: tuple[str, list[str]], given: dict[str, str]
) -> None:
    result = build_link(url[0], **given)
    assert result.tracked_url is not None
    parsed = dict(
        (k, v)
        for k, v in parse_qsl(urlsplit(result.tracked_url).query, keep_blank_values=True)
        if k.startswith("utm_")
    )
    for name, raw in given.items():
        expected = raw.strip() if name == "id" else normalize_value(raw)
        assert parsed[f"utm_{name}"] == expected
    assert set(parsed) <= {f"utm_{f}" for f in FIELDS}


@given(st.text(max_size=60))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = build_link(text, source="a", medium="email")
    assert result.status in {"ok", "warning", "error"}
    assert (result.tracked_url is None) == (result.status == "error")
