"""Hostile input on the brief form (POST /briefs) and the API (POST /api/v1/briefs).

Template syntax, markup, path traversal in upload names, huge fields, control characters
and SQL metacharacters: each is either kept as literal text (and escaped wherever HTML
shows it) or refused clearly, and a refused submit leaves no brief row and no flow run.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from markupsafe import escape

from reelfactory.accounts import brief_row
from reelfactory.db import session_for
from reelfactory.orchestration import read_run
from tests.web.conftest import (
    SUBMITTER,
    Web,
    api_headers,
    brief_count,
    flow_run_count,
    form_data,
    png,
)

# What TestClient answers (httpx or httpx2, depending on the Starlette release).
Response = Any

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
EXPR = "{{7*7}}"
LOOP = "{% for x in y %}loop{% endfor %}"
BIG = "A" * (10 * 2**20)
NO_FILE = {"references": ("", b"", "application/octet-stream")}  # a browser, nothing picked


def api_json(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {k: v for k, v in form_data().items() if k != "language"}
    data["duration_s"] = 15
    data.update(overrides)
    return data


def submit(web: Web, csrf: str, files: Any = None, **fields: str | list[str]) -> Response:
    return web.client.post(
        "/briefs",
        data={**form_data(**fields), "csrf_token": csrf, "action": "submit"},
        files=files,
        follow_redirects=False,
    )


def created_id(resp: Response) -> str:
    assert resp.status_code == 303, resp.text[:2000]
    location: str = resp.headers["location"]
    assert location.startswith("/briefs/")
    return location.removeprefix("/briefs/")


def stored_brief_json(web: Web, brief_id: str) -> str:
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, brief_id)
        assert row is not None
        return row.brief_json


@contextmanager
def nothing_saved(web: Web) -> Iterator[None]:
    """The block may be refused as often as it likes: no brief row, no flow run."""
    rows, runs = brief_count(web.settings), flow_run_count()
    yield
    assert brief_count(web.settings) == rows, "a refused submit left a brief row"
    assert flow_run_count() == runs, "a refused submit started a flow run"


# --------------------------------------------------------------------------- templates


def test_template_syntax_is_kept_literally_on_the_form(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    title = f"{EXPR} launch"
    message = f"{LOOP} and {EXPR} mornings taste better."
    brief_id = created_id(submit(web, csrf, title=title, message=message))
    page = web.client.get(f"/briefs/{brief_id}").text
    assert title in page and message in page
    assert "49 launch" not in page and "loop and" not in page
    stored = stored_brief_json(web, brief_id)
    assert EXPR in stored and LOOP in stored
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, brief_id)
        assert row is not None and row.title == title
    run = read_run(row.flow_run_id)
    assert run.parameters["brief"]["title"] == title
    assert run.parameters["brief"]["message"] == message
    # The check view expands the same text into prompts: still literal, escaped as text.
    check = web.client.post(
        "/briefs",
        data={**form_data(title=title, message=message), "csrf_token": csrf, "action": "check"},
    )
    assert check.status_code == 200
    shown = check.text.split('id="check"')[1]
    assert title in shown and "49 launch" not in shown and "49 mornings" not in shown


def test_template_syntax_is_kept_literally_through_the_api(web: Web) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    title = f"{EXPR} via the API"
    message = f"{LOOP}: {EXPR} is not forty-nine."
    check = web.client.post(
        "/api/v1/briefs/check", json=api_json(title=title, message=message), headers=auth
    )
    assert check.status_code == 200, check.text
    prompts = [s["prompt"] for s in check.json()["shots"]]
    assert prompts and any(EXPR in p for p in prompts) and any(LOOP in p for p in prompts)
    assert not any("49" in p for p in prompts)
    captions = [s["caption"] for s in check.json()["shots"]]
    assert title in captions or message in captions
    made = web.client.post(
        "/api/v1/briefs", json=api_json(title=title, message=message), headers=auth
    )
    assert made.status_code == 201, made.text
    brief_id = made.json()["brief_id"]
    assert web.client.get(f"/api/v1/briefs/{brief_id}", headers=auth).json()["title"] == title
    stored = stored_brief_json(web, brief_id)
    assert EXPR in stored and LOOP in stored
    assert read_run(made.json()["flow_run_id"]).parameters["brief"]["message"] == message


# --------------------------------------------------------------------------- markup


def test_script_is_escaped_on_every_page_that_shows_it(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    fields = {
        "title": f"{SCRIPT} title",
        "message": f"{SCRIPT} in the key message.",
        "audience": f"{SCRIPT} fans",
        "call_to_action": f"{SCRIPT} now",
    }
    # The re-render after a validation error shows every value back, and the error itself.
    with nothing_saved(web):
        bad = submit(web, csrf, duration_s=SCRIPT, **fields)
    assert bad.status_code == 422
    assert 'id="duration_s-error"' in bad.text
    assert SCRIPT not in bad.text
    assert bad.text.count(ESCAPED_SCRIPT) >= 5  # four fields and the duration's value
    # Check: the shot table shows prompts and captions made from the copy.
    check = web.client.post(
        "/briefs", data={**form_data(**fields), "csrf_token": csrf, "action": "check"}
    )
    assert check.status_code == 200, check.text[:2000]
    assert 'id="check"' in check.text
    assert SCRIPT not in check.text and ESCAPED_SCRIPT in check.text.split('id="check"')[1]
    brief_id = created_id(submit(web, csrf, **fields))
    for path in (f"/briefs/{brief_id}", "/briefs"):
        page = web.client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text, path
        assert ESCAPED_SCRIPT in page.text, path
    filtered = web.client.get("/briefs", params={"state": SCRIPT, "brand": SCRIPT})
    assert filtered.status_code == 200 and SCRIPT not in filtered.text
    bad_date = web.client.get("/briefs", params={"since": SCRIPT})
    assert bad_date.status_code == 422
    assert SCRIPT not in bad_date.text and ESCAPED_SCRIPT in bad_date.text


def test_script_in_an_upload_name_is_escaped(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    with nothing_saved(web):
        resp = submit(
            web, csrf, files={"references": (f"{SCRIPT}.png", b"not an image", "image/png")}
        )
    assert resp.status_code == 422
    assert SCRIPT not in resp.text
    assert 'id="references-error"' in resp.text


# --------------------------------------------------------------------------- uploads


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_upload_names_are_never_paths(web: Web, tmp_path: Path) -> None:
    csrf = web.login(SUBMITTER)
    first, second = png((30, 80, 160)), png((20, 140, 90))
    before = _files_under(tmp_path)
    brief_id = created_id(
        submit(
            web,
            csrf,
            files=[
                ("references", ("../../etc/passwd.png", first, "image/png")),
                ("references", ("..\\..\\x.png", second, "image/png")),
            ],
        )
    )
    refs = web.settings.assets_dir / "references"
    expected = {refs / f"{hashlib.sha256(b).hexdigest()}.png" for b in (first, second)}
    new = {p for p in _files_under(tmp_path) - before if not p.name.startswith("reel.db")}
    assert new == expected
    assert {p.read_bytes() for p in expected} == {first, second}
    for name in ("passwd.png", "x.png"):
        assert not any(p.name == name for p in _files_under(tmp_path)), name
    assert not (refs / "../../etc/passwd.png").resolve().exists()
    assert not Path("/etc/passwd.png").exists()
    assert not (tmp_path.parent / "x.png").exists()
    stored = stored_brief_json(web, brief_id)
    assert "passwd" not in stored and "x.png" not in stored
    page = web.client.get(f"/briefs/{brief_id}").text
    assert "passwd" not in page and "2 (moderated" in page


def test_a_traversal_name_shows_back_only_as_its_last_part(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    with nothing_saved(web):
        resp = submit(
            web,
            csrf,
            files={"references": ("../../../../etc/evil.png", b"plain text", "image/png")},
        )
    assert resp.status_code == 422
    assert "evil.png: not a readable image" in resp.text
    assert "../" not in resp.text.split('id="references-error"')[1].split("</ul>")[0]


# --------------------------------------------------------------------------- sizes


def test_a_10_mb_title_on_the_form_is_refused_naming_the_field(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    for files in (None, NO_FILE):  # urlencoded, and multipart as a browser sends the form
        with nothing_saved(web):
            started = time.monotonic()
            resp = submit(web, csrf, files=files, title=BIG)
            elapsed = time.monotonic() - started
        assert resp.status_code in (413, 422), resp.text[:500]
        assert "title" in resp.text.lower()
        assert len(resp.content) < 2**20, "the 10 MB value came back in the page"
        assert elapsed < 10


def test_a_10_mb_title_on_the_api_is_refused_naming_the_field(web: Web) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    with nothing_saved(web):
        started = time.monotonic()
        resp = web.client.post("/api/v1/briefs", json=api_json(title=BIG), headers=auth)
        elapsed = time.monotonic() - started
    assert resp.status_code in (413, 422), resp.text[:500]
    if resp.status_code == 422:
        assert [e["field"] for e in resp.json()["errors"]] == ["title"]
    else:
        assert "title" in resp.text.lower()
    assert len(resp.content) < 2**20, "the 10 MB value came back in the answer"
    assert elapsed < 10


# --------------------------------------------------------------------------- control characters


def test_null_bytes_and_bidi_overrides_are_stripped(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    title = "Sunrise\x00 Blend \u202eis here"
    message = "Slow \u202emornings\x00 taste better."
    brief_id = created_id(submit(web, csrf, title=title, message=message))
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, brief_id)
        assert row is not None
        assert row.title == "Sunrise Blend is here"
        assert row.brief().message == "Slow mornings taste better."
        assert "\u202e" not in row.brief_json and "\\u0000" not in row.brief_json
    for path in (f"/briefs/{brief_id}", "/briefs"):
        page = web.client.get(path).text
        assert "\u202e" not in page and "\x00" not in page, path
        assert "Sunrise Blend is here" in page
    # Through the API too.
    auth = api_headers(web.settings, SUBMITTER)
    made = web.client.post(
        "/api/v1/briefs",
        json=api_json(title="API\u202e title\x00", audience="A\u202eB"),
        headers=auth,
    )
    assert made.status_code == 201, made.text
    assert made.json()["brief_id"] != brief_id
    got = web.client.get(f"/api/v1/briefs/{made.json()['brief_id']}", headers=auth).json()
    assert got["title"] == "API title"


def test_a_refused_form_does_not_show_bidi_overrides_back(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    with nothing_saved(web):
        resp = submit(
            web, csrf, title="Sunrise \u202eBlend", audience="Night\x00 owls", duration_s="nope"
        )
    assert resp.status_code == 422
    assert "\u202e" not in resp.text and "\x00" not in resp.text
    assert 'value="Sunrise Blend"' in resp.text and 'value="Night owls"' in resp.text


# --------------------------------------------------------------------------- SQL


SQL_TITLE = "'; DROP TABLE brief; --"
SQL_MESSAGE = '" OR 1=1 -- and slow mornings taste better.'


def _brief_table_exists(web: Web) -> bool:
    path = web.settings.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "select name from sqlite_master where type='table' and name='brief'"
        ).fetchall()
    return bool(found)


def test_sql_metacharacters_are_stored_and_shown_literally(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    brief_id = created_id(submit(web, csrf, title=SQL_TITLE, message=SQL_MESSAGE))
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, brief_id)
        assert row is not None and row.title == SQL_TITLE
        assert row.brief().message == SQL_MESSAGE
    page = web.client.get(f"/briefs/{brief_id}").text
    assert str(escape(SQL_TITLE)) in page and str(escape(SQL_MESSAGE)) in page
    assert str(escape(SQL_TITLE)) in web.client.get("/briefs").text
    # Filters and sign-in carry them too, as data.
    assert web.client.get("/briefs", params={"brand": SQL_TITLE}).status_code == 200
    assert web.client.get(f"/briefs/{SQL_TITLE}").status_code == 404
    auth = api_headers(web.settings, SUBMITTER)
    assert web.client.get("/api/v1/briefs", params={"brand": SQL_TITLE}, headers=auth).json() == []
    listed = web.client.get("/api/v1/briefs", headers=auth).json()
    assert [b["title"] for b in listed] == [SQL_TITLE]
    made = web.client.post(
        "/api/v1/briefs", json=api_json(title=SQL_MESSAGE[:60], audience=SQL_TITLE), headers=auth
    )
    assert made.status_code == 201, made.text
    assert _brief_table_exists(web)
    assert brief_count(web.settings) == 2


def test_sql_metacharacters_in_sign_in_are_only_a_wrong_password(web: Web) -> None:
    from tests.web.conftest import CSRF

    for email in (f"{SUBMITTER}'--", "' OR 1=1 --", SQL_TITLE):
        token = CSRF.search(web.client.get("/login").text)
        assert token
        form = {"email": email, "password": "' OR '1'='1", "csrf_token": token.group(1)}
        resp = web.client.post("/login", data=form, follow_redirects=False)
        assert resp.status_code == 401, email
        assert "reel_session" not in resp.headers.get("set-cookie", "")
    assert _brief_table_exists(web)


# --------------------------------------------------------------------------- nothing half-saved


def test_no_rejection_leaves_a_row_or_a_run(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    auth = api_headers(web.settings, SUBMITTER)
    with nothing_saved(web):
        # Form: bad fields, a duration the format cannot take, a bad upload after a good one,
        # a GIF, a brand the user may not submit for, a missing CSRF token.
        assert submit(web, csrf, title="").status_code == 422
        assert submit(web, csrf, duration_s="45").status_code == 422
        assert submit(web, csrf, aspect_ratios=["16:9", "4:7"]).status_code == 422
        mixed = [
            ("references", ("good.png", png(), "image/png")),
            ("references", ("bad.png", b"GIF89a not really", "image/png")),
        ]
        assert submit(web, csrf, files=mixed).status_code == 422
        assert submit(web, csrf, brand="kestrel-bikes").status_code == 403
        resp = web.client.post("/briefs", data=form_data(), follow_redirects=False)
        assert resp.status_code == 403
        # API: invalid, misfitting, someone else's brand, a forged submitter, references.
        api = "/api/v1/briefs"
        assert (
            web.client.post(api, json={"brand": "aurora-coffee"}, headers=auth).status_code == 422
        )
        assert web.client.post(api, json=api_json(duration_s=45), headers=auth).status_code == 422
        assert (
            web.client.post(api, json=api_json(brand="kestrel-bikes"), headers=auth).status_code
            == 403
        )
        forged = api_json(submitted_by="someone.else@aurora-coffee.example")
        assert web.client.post(api, json=forged, headers=auth).status_code == 422
        ref = {
            "uri": "file:///etc/passwd",
            "sha256": "0" * 64,
            "size": 1,
            "media_type": "image/png",
        }
        assert (
            web.client.post(api, json=api_json(references=[ref]), headers=auth).status_code == 422
        )
        assert web.client.post(api, content=b"{not json", headers=auth).status_code == 422
