"""Real redirect configurations served by nginx on loopback, checked end to end."""

from __future__ import annotations

import pytest
from loopback import CHAIN_LENGTH, Nginx

from tagtrail.check import CheckReport, check_many, check_url

UTM = "utm_source=intercom&utm_medium=email&utm_campaign=spring"


def run(nginx: Nginx, url: str, **kwargs: object) -> CheckReport:
    return check_url(url, ssl_context=nginx.ssl_context(), **kwargs)  # type: ignore[arg-type]


def statuses(report: CheckReport) -> dict[str, str]:
    return {c.check: c.status for c in report.checks}


def test_return_301_https_host_uri_drops_the_query(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/drop/landing?{UTM}"))
    assert [h.status for h in report.hops] == [301, 200]
    assert report.hops[1].url == nginx.surl("/drop/landing")
    assert report.hops[1].utm_lost == ("utm_source", "utm_medium", "utm_campaign")
    assert report.hops[1].scheme_change == "http->https"
    assert statuses(report)["redirects"] == "fail"
    assert statuses(report)["utm_in_final"] == "fail"
    assert "hop 2 drops utm_source" in report.check("redirects").message
    assert not report.valid


def test_rewrite_permanent_keeps_the_query(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/keep/spring?{UTM}"))
    assert [h.status for h in report.hops] == [301, 200]
    assert report.final_url == nginx.url(f"/landing/spring?{UTM}")
    assert report.valid
    assert statuses(report)["redirects"] == "pass"
    assert statuses(report)["utm_in_final"] == "pass"
    assert statuses(report)["ssl"] == "warn"  # plain http all the way


def test_request_uri_redirect_keeps_path_and_query(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/ruri/a?{UTM}"))
    assert report.final_url == nginx.url(f"/landing/ruri/a?{UTM}")
    assert report.valid


def test_http_to_https_with_request_uri(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/tohttps/landing/x?{UTM}"))
    assert report.final_url == nginx.surl(f"/tohttps/landing/x?{UTM}")
    hop = report.hops[1]
    assert hop.scheme_change == "http->https" and hop.status == 200
    assert report.valid
    assert hop.tls is not None and hop.tls.cert_valid and hop.tls.hostname_match


def test_trailing_slash_redirect_of_a_directory(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/site/dir?{UTM}"))
    assert [h.status for h in report.hops] == [301, 200]
    assert report.final_url == nginx.url(f"/site/dir/?{UTM}")
    assert report.valid


def test_relative_location_is_resolved(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/rel/x?{UTM}"))
    assert report.hops[0].location == f"../landing/rel?{UTM}"
    assert report.final_url == nginx.url(f"/landing/rel?{UTM}")
    assert report.valid


def test_email_wrapper_shortener_site(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/ls/click?{UTM}"))
    assert [h.status for h in report.hops] == [302, 301, 200]
    assert report.final_url == nginx.surl(f"/landing/?{UTM}")
    assert report.valid, report.checks
    assert statuses(report)["ssl"] == "pass"
    assert report.hops[2].tls is not None and report.hops[2].tls.protocol is not None


def test_email_wrapper_that_strips_the_query(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/ls/strip?{UTM}"))
    assert [h.status for h in report.hops] == [302, 301, 200]
    assert report.hops[1].utm_lost == ("utm_source", "utm_medium", "utm_campaign")
    assert report.check("redirects").message.startswith("hop 2 drops")
    assert not report.valid


def test_https_to_http_downgrade(nginx: Nginx) -> None:
    report = run(nginx, nginx.surl(f"/down/?{UTM}"))
    assert report.hops[1].scheme_change == "https->http"
    assert statuses(report)["downgrade"] == "fail"
    assert not report.valid


def test_loop(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/loop/a?{UTM}"))
    assert len(report.hops) == 2
    assert statuses(report)["loop"] == "fail"
    assert "back to hop 1" in report.check("loop").message
    assert not report.valid


def test_twelve_hop_chain_hits_max_hops(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/chain/1?{UTM}"))
    assert len(report.hops) == 11  # the first request and ten redirects followed
    assert statuses(report)["max_hops"] == "fail"
    longer = run(nginx, nginx.url(f"/chain/1?{UTM}"), max_hops=CHAIN_LENGTH)
    assert len(longer.hops) == CHAIN_LENGTH + 1
    assert longer.valid


def test_meta_refresh_is_followed(nginx: Nginx) -> None:
    report = run(nginx, nginx.url("/meta.html"))
    assert report.hops[0].redirect == "meta-refresh"
    assert report.final_url == nginx.url(
        "/landing/meta?utm_source=news&utm_medium=email&utm_campaign=spring"
    )


def test_refresh_header_is_followed(nginx: Nginx) -> None:
    report = run(nginx, nginx.url(f"/refresh?{UTM}"))
    assert report.hops[0].redirect == "refresh-header"
    assert report.final_url == nginx.url(f"/landing/refreshed?{UTM}")
    assert report.valid


def test_javascript_redirect_is_reported_not_followed(nginx: Nginx) -> None:
    report = run(nginx, nginx.url("/js.html"))
    assert len(report.hops) == 1
    assert report.hops[0].redirect == "javascript"
    assert "location.replace(" in (report.hops[0].location or "")
    assert statuses(report)["resolution"] == "warn"


def test_big_page_is_read_only_to_64_kib(nginx: Nginx) -> None:
    report = run(nginx, nginx.url("/big.html"))
    assert report.hops[0].bytes_read == 64 * 1024
    assert report.hops[0].status == 200


def test_server_error_fails_resolution(nginx: Nginx) -> None:
    report = run(nginx, nginx.url("/teapot"))
    assert statuses(report)["resolution"] == "fail"
    assert report.check("resolution").message == "final answer 500"


def test_fragment_is_kept_and_utm_in_fragment_warns(nginx: Nginx) -> None:
    kept = run(nginx, nginx.url(f"/keep/x?{UTM}#pricing"))
    assert kept.final_url.endswith("#pricing")
    assert kept.check("fragment").status == "pass"
    hidden = run(nginx, nginx.url("/landing/x#utm_source=news&utm_medium=email"))
    assert hidden.check("fragment").status == "warn"


@pytest.mark.parametrize(
    ("port_name", "reason"),
    [("expired", "certificate has expired"), ("wrong_host", "mismatch, certificate is not valid")],
)
def test_invalid_certificate_still_reports_its_facts(
    nginx: Nginx, port_name: str, reason: str
) -> None:
    port = getattr(nginx, port_name)
    report = run(nginx, nginx.surl(f"/?{UTM}", port=port))
    hop = report.hops[0]
    assert hop.status == 200  # learnt without verification, after the verified attempt failed
    assert hop.tls is not None and not hop.tls.cert_valid
    assert reason in (hop.tls.error or "")
    assert report.check("ssl").status == "fail"
    if port_name == "expired":
        assert hop.tls.days_to_expiry is not None and hop.tls.days_to_expiry < 0
        assert hop.tls.hostname_match is True
    else:
        assert hop.tls.hostname_match is False
        assert hop.tls.days_to_expiry is not None and hop.tls.days_to_expiry > 300


def test_untrusted_ca_is_refused_by_default(nginx: Nginx) -> None:
    report = check_url(nginx.surl(f"/landing/?{UTM}"))  # certifi does not know the test CA
    tls = report.hops[0].tls
    assert tls is not None and not tls.cert_valid
    assert report.check("ssl").status == "fail"


def test_check_many_keeps_order_and_reports_progress(nginx: Nginx) -> None:
    urls = [nginx.url(f"/keep/{i}?{UTM}") for i in range(40)] + [nginx.url("/teapot")]
    seen: list[str] = []
    reports = check_many(
        urls, concurrency=8, on_done=lambda r: seen.append(r.url), ssl_context=nginx.ssl_context()
    )
    assert [r.url for r in reports] == urls
    assert sorted(seen) == sorted(urls)
    assert [r.valid for r in reports] == [True] * 40 + [False]
