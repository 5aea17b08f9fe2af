"""Which links of real-world email HTML and SMS text are tracked, and byte-for-byte rendering."""

from __future__ import annotations

from collections import Counter

import pytest

from tagtrail.messages import (
    Template,
    count_segments,
    plan_message,
    position_suffix,
    recipient_part,
    split_code,
)
from tagtrail.messages.codes import ALPHABET, recipient_parts

SHORT = "go.example.com"

# What sending tools produce: table layout, an Outlook-only button in a conditional comment,
# `&amp;` in hrefs, upper-case HREF, single-quoted and unquoted values, placeholders of Liquid,
# Handlebars, Mailchimp, Intercom and SFMC, non-http schemes, anchors, an opt-out, an excluded
# universal-link domain, a link already tracked, an image, a stylesheet, a script and a comment.
EMAIL = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="https://cdn.example/s.css">
<!--[if mso]><v:roundrect href="https://mso.example/button">Go</v:roundrect><![endif]-->
<script>var x = '<a href="https://script.example/">';</script></head>
<body><table role="presentation"><tr><td>
<A HREF="https://shop.example/sale?a=1&amp;b=2" class="btn">Shop the sale &rarr;</A>
<a href='https://shop.example/new'>New  <b>in</b></a>
<a href=https://shop.example/unquoted>Unquoted</a>
<img src="https://img.example/logo.png" alt="logo">
<a href="{{unsubscribe_url}}">Unsubscribe</a>
<a href="https://shop.example/prefs?e={{ user.email }}">Preferences</a>
<a href="*|UNSUB|*">Mailchimp</a> <a href="%%view_email_url%%">SFMC</a>
<a href="{% unsubscribe %}">Liquid</a>
<a href="mailto:help@shop.example">Mail</a> <a href="tel:+15555550100">Call</a>
<a href="sms:+15555550100">Text</a> <a href="#top">Top</a>
<a href="https://shop.example/private" data-tagtrail="off">Private</a>
<a href="https://app.shop.example/open">Open the app</a>
<a href="https://go.example.com/abc1234">Tracked</a>
<map><area shape="rect" href="https://shop.example/map" alt="Map"></map>
<!-- <a href="https://comment.example/">hidden</a> -->
<a href="https://shop.example/x"><img src="https://img.example/x.png" alt="Sale banner"></a>
</td></tr></table>
<p>Broken <a href="https://shop.example/broken" <b>tail</p> <a href=
"""


def test_email_links_and_skip_reasons() -> None:
    plan = plan_message(EMAIL, "email", short_host=SHORT, excluded=("app.shop.example",))
    seen = [(link.url, link.reason) for link in plan.links]
    assert seen == [
        ("https://shop.example/sale?a=1&b=2", None),
        ("https://shop.example/new", None),
        ("https://shop.example/unquoted", None),
        ("{{unsubscribe_url}}", "placeholder"),
        ("https://shop.example/prefs?e={{ user.email }}", "placeholder"),
        ("*|UNSUB|*", "placeholder"),
        ("%%view_email_url%%", "placeholder"),
        ("{% unsubscribe %}", "placeholder"),
        ("mailto:help@shop.example", "scheme"),
        ("tel:+15555550100", "scheme"),
        ("sms:+15555550100", "scheme"),
        ("#top", "anchor"),
        ("https://shop.example/private", "opt_out"),
        ("https://app.shop.example/open", "excluded"),
        ("https://go.example.com/abc1234", "already_tracked"),
        ("https://shop.example/map", None),
        ("https://shop.example/x", None),
        ("https://shop.example/broken", None),
    ]
    assert [link.position for link in plan.links] == list(range(1, 19))
    texts = {link.url: (link.text, link.content) for link in plan.tracked}
    assert texts["https://shop.example/sale?a=1&b=2"] == ("Shop the sale →", "shop-the-sale")
    assert texts["https://shop.example/new"] == ("New in", "new-in")
    assert texts["https://shop.example/map"] == ("", "link-16")
    assert texts["https://shop.example/x"] == ("Sale banner", "sale-banner")


def test_rendering_changes_only_the_href_values() -> None:
    plan = plan_message(EMAIL, "email", short_host=SHORT, excluded=("app.shop.example",))
    template = Template.of(EMAIL, plan.tracked)
    urls = [f"https://{SHORT}/R{n:09d}" for n in range(len(plan.tracked))]
    rendered = template.render(urls)
    # Put the original values back where the new ones went: the bytes are the input's.
    restored, at = [], 0
    for link, url in zip(plan.tracked, urls, strict=True):
        piece_end = rendered.index(url, at)
        restored.append(rendered[at:piece_end])
        restored.append(EMAIL[link.start : link.end])
        at = piece_end + len(url)
    restored.append(rendered[at:])
    assert "".join(restored).encode() == EMAIL.encode()
    assert 'HREF="https://go.example.com/R000000000" class="btn"' in rendered
    assert "href='https://go.example.com/R000000001'" in rendered
    assert "href=https://go.example.com/R000000002>" in rendered
    for untouched in (
        "https://mso.example/button",
        "https://script.example/",
        "https://comment.example/",
        "https://cdn.example/s.css",
        "https://img.example/logo.png",
        "{{unsubscribe_url}}",
        "&rarr;",
    ):
        assert untouched in rendered
    with pytest.raises(ValueError):
        template.render(urls[:-1])


def test_no_links_and_hopeless_markup_are_not_errors() -> None:
    for body in ("", "plain text", "<a", "<a href", "<<<>>>&&&", "<!--", "<a href='x"):
        plan = plan_message(body, "email", short_host=SHORT)
        assert Template.of(body, plan.tracked).render([""] * len(plan.tracked)) is not None


def test_sms_links_with_or_without_scheme() -> None:
    text = (
        "ACME: 20% off at acme.example/sale?p=1. Details: https://acme.example/terms, "
        "(see www.acme.example/faq). Mail ann@acme.example, e.g. today. Reply STOP to opt out"
    )
    plan = plan_message(text, "sms", short_host=SHORT)
    assert [(link.url, link.reason) for link in plan.links] == [
        ("https://acme.example/sale?p=1", None),
        ("https://acme.example/terms", None),
        ("https://www.acme.example/faq", None),
    ]
    rendered = Template.of(text, plan.tracked).render(["A", "B", "C"])
    assert rendered == (
        "ACME: 20% off at A. Details: B, (see C). Mail ann@acme.example, e.g. today. "
        "Reply STOP to opt out"
    )
    assert plan.links[0].content == "link-1"


def test_sms_segments() -> None:
    assert (count_segments("a" * 160).encoding, count_segments("a" * 160).count) == ("gsm7", 1)
    assert count_segments("a" * 161).count == 2
    assert count_segments("a" * 306).count == 2
    assert count_segments("a" * 307).count == 3
    euro = count_segments("€" * 80)  # an extension character takes two septets
    assert (euro.units, euro.count) == (160, 1)
    assert count_segments("€" * 81).count == 2
    assert count_segments("ü" * 160).encoding == "gsm7"  # ü is in the basic table
    ucs = count_segments("日" * 70)
    assert (ucs.encoding, ucs.count) == ("ucs2", 1)
    assert count_segments("日" * 71).count == 2
    assert count_segments("😀" * 35).units == 70  # a surrogate pair is two code units


def test_per_recipient_codes() -> None:
    part = recipient_part()
    assert len(part) == 8 and part.isalnum()
    for position in (1, 2, 61, 62, 3843):
        code = part + position_suffix(position)
        assert len(code) == 10
        assert split_code(code) == (part, position)
    for bad in ("short", part + "00", part + "-1", "abcdefgh_x" + "", "ABCDEFGHIJK"):
        assert split_code(bad) is None
    with pytest.raises(ValueError):
        position_suffix(3844)
    assert len({recipient_part() for _ in range(1000)}) == 1000


def test_recipient_parts_in_bulk_are_uniform_and_distinct() -> None:
    parts = recipient_parts(20_000)
    assert len(parts) == 20_000 and len(set(parts)) == 20_000
    assert all(len(p) == 8 and set(p) <= set(ALPHABET) for p in parts)
    counts = Counter("".join(parts))
    assert set(counts) == set(ALPHABET)
    expected = 20_000 * 8 / 62  # ~2,580 each; a modulo bias would give the first 8 ~4 % more
    assert all(abs(n - expected) < 0.1 * expected for n in counts.values())
    assert recipient_parts(0) == []
