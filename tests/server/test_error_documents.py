"""Every front end answers an error with one body, `tagtrail.errors.error_document`."""

from __future__ import annotations

from tagtrail.errors import InvalidOptions, NotFound, document_of, error_document
from tests.server.conftest import Server

SHAPE = ["ok", "error", "errors", "status"]


def test_the_dashboards_json_routes_answer_the_full_error_body(lite: Server) -> None:
    answer = lite.client.post("/ui/check.json", json={"url": "https://example.com/"})
    assert answer.status_code == 401
    body = answer.json()
    assert list(body) == SHAPE
    assert body == {
        "ok": False,
        "error": "sign in first",
        "errors": ["sign in first"],
        "status": 401,
    }


def test_the_api_and_the_builder_agree(lite: Server) -> None:
    answer = lite.get("/api/links/nosuchcode")
    assert answer.status_code == 404
    body = answer.json()
    assert list(body) == SHAPE
    assert body["errors"][0] == body["error"]


def test_a_domain_error_with_a_hint_lists_both() -> None:
    doc = document_of(NotFound("no link `x`", hint="see `tagtrail links list`"), status=404)
    assert doc == {
        "ok": False,
        "error": "no link `x`",
        "errors": ["no link `x`", "see `tagtrail links list`"],
        "status": 404,
    }
    assert error_document("bad", errors=["a", "b"], status=422)["errors"] == ["a", "b"]


def test_invalid_options_name_the_option_as_click_does() -> None:
    exc = InvalidOptions("'x' is not a duration like 30d, 24h or 90m", option="lookback")
    assert exc.usage_message() == (
        "Invalid value for 'lookback': 'x' is not a duration like 30d, 24h or 90m"
    )
