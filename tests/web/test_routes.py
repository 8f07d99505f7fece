"""Route tests: auth everywhere, brand scoping, CSRF, sizes, validation, submit."""

from __future__ import annotations

import pytest

from reelfactory.accounts import new_api_token, user_by_email
from reelfactory.db import session_for
from reelfactory.orchestration import read_run
from tests.web.conftest import APPROVER, CSRF, KESTREL, PASSWORD, SUBMITTER, Web, form_data


@pytest.mark.parametrize(
    "path", ["/", "/briefs", "/briefs/new", "/briefs/anything", "/briefs/anything/status"]
)
def test_every_page_needs_a_session(web: Web, path: str) -> None:
    resp = web.client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login?next=")


def test_api_needs_a_token(web: Web) -> None:
    assert web.client.get("/api/v1/briefs").status_code == 401
    bad = web.client.get("/api/v1/briefs", headers={"Authorization": "Bearer reel_nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"


def test_submit_starts_a_run_and_lands_on_the_brief_page(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    resp = web.client.post(
        "/briefs",
        data={**form_data(), "csrf_token": csrf, "action": "submit"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    page = web.client.get(resp.headers["location"])
    assert page.status_code == 200
    assert "Sunrise Blend is here" in page.text
    assert "queued" in page.text
    brief_id = resp.headers["location"].rsplit("/", 1)[-1]
    status = web.client.get(f"/briefs/{brief_id}/status").json()
    assert status["phase"] == "queued"
    with session_for(web.settings.db_url) as session:
        from reelfactory.accounts import brief_row

        row = brief_row(session, brief_id)
        assert row is not None and row.submitted_by == SUBMITTER
    run = read_run(row.flow_run_id)
    assert run.parameters["brief"]["submitted_by"] == SUBMITTER
    # Submitting the same brief again finds the same run, not a second one.
    again = web.client.post(
        "/briefs",
        data={**form_data(), "csrf_token": csrf, "action": "submit"},
        follow_redirects=False,
    )
    assert again.headers["location"] == resp.headers["location"]


def test_missing_csrf_is_403_and_saves_nothing(web: Web) -> None:
    web.login(SUBMITTER)
    resp = web.client.post("/briefs", data={**form_data(), "action": "submit"})
    assert resp.status_code == 403
    assert web.client.get("/briefs").text.count("/briefs/aurora-coffee-") == 0


def test_invalid_fields_show_inline_with_values_kept(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    resp = web.client.post(
        "/briefs",
        data={**form_data(title="", duration_s="90", audience="Night owls"), "csrf_token": csrf},
    )
    assert resp.status_code == 422
    assert 'id="title-error"' in resp.text
    assert 'value="Night owls"' in resp.text


def test_a_duration_the_format_cannot_take_is_inline_on_duration(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    resp = web.client.post("/briefs", data={**form_data(duration_s="45"), "csrf_token": csrf})
    assert resp.status_code == 422
    assert 'id="duration_s-error"' in resp.text
    assert "45" in resp.text


def test_submitter_cannot_see_or_submit_for_another_brand(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    created = web.client.post(
        "/briefs", data={**form_data(), "csrf_token": csrf}, follow_redirects=False
    )
    brief_path = created.headers["location"]
    web.client.post("/logout", data={"csrf_token": csrf})
    csrf = web.login(KESTREL)
    assert web.client.get(brief_path).status_code == 404
    assert web.client.get(brief_path + "/status").status_code == 404
    assert "Sunrise Blend" not in web.client.get("/briefs").text
    resp = web.client.post("/briefs", data={**form_data(), "csrf_token": csrf})
    assert resp.status_code == 403


def test_approver_sees_the_brand_but_may_not_submit(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    created = web.client.post(
        "/briefs", data={**form_data(), "csrf_token": csrf}, follow_redirects=False
    )
    web.client.post("/logout", data={"csrf_token": csrf})
    token = CSRF.search(web.client.get("/login").text)
    assert token
    form = {"email": APPROVER, "password": PASSWORD, "csrf_token": token.group(1)}
    assert web.client.post("/login", data=form, follow_redirects=False).status_code == 303
    assert web.client.get(created.headers["location"]).status_code == 200
    assert web.client.get("/briefs/new").status_code == 403


def test_login_is_rate_limited(web: Web) -> None:
    def attempt(password: str) -> int:
        token = CSRF.search(web.client.get("/login").text)
        assert token
        form = {"email": SUBMITTER, "password": password, "csrf_token": token.group(1)}
        return web.client.post("/login", data=form, follow_redirects=False).status_code

    assert [attempt("wrong-password!") for _ in range(4)] == [401, 401, 401, 429]
    assert attempt(PASSWORD) == 429  # the right password waits out the window too


def test_login_without_its_csrf_cookie_is_403(web: Web) -> None:
    token = CSRF.search(web.client.get("/login").text)
    assert token
    web.client.cookies.clear()
    form = {"email": SUBMITTER, "password": PASSWORD, "csrf_token": token.group(1)}
    assert web.client.post("/login", data=form).status_code == 403


def test_session_cookie_flags(web: Web) -> None:
    token = CSRF.search(web.client.get("/login").text)
    assert token
    form = {"email": SUBMITTER, "password": PASSWORD, "csrf_token": token.group(1)}
    cookie = web.client.post("/login", data=form, follow_redirects=False).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure


def test_api_submit_validates_and_scopes(web: Web) -> None:
    with session_for(web.settings.db_url) as session:
        user = user_by_email(session, KESTREL)
        assert user is not None
        token = new_api_token(session, user, "test")
    auth = {"Authorization": f"Bearer {token}"}
    bad = web.client.post("/api/v1/briefs", json={"brand": "kestrel-bikes"}, headers=auth)
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"title", "message", "audience", "call_to_action", "duration_s"} <= fields
    other = web.client.post(
        "/api/v1/briefs",
        json={k: v for k, v in form_data().items() if k != "language"} | {"duration_s": 15},
        headers=auth,
    )
    assert other.status_code == 403
    assert web.client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/briefs"]


def test_oversize_upload_is_413(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * int(web.settings.web_upload_max_mib * 2**20)
    resp = web.client.post(
        "/briefs",
        data={**form_data(), "csrf_token": csrf},
        files={"references": ("big.png", big, "image/png")},
    )
    assert resp.status_code == 413
