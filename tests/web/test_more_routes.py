"""More routes: SSO sign-in, reference uploads, the check action, API list filters,
campaigns through the API, redirects and headers; and the pure parts (status, forms)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from prefect.client.orchestration import get_client
from pydantic import ValidationError

from reelfactory.accounts import Role, add_user, brief_row
from reelfactory.brand import read_yaml
from reelfactory.db import session_for
from reelfactory.models import Brief
from reelfactory.orchestration import read_run
from reelfactory.settings import PROJECT_ROOT
from reelfactory.web import forms
from reelfactory.web.app import create_app
from reelfactory.web.status import RunFacts, status_of
from tests.web.conftest import (
    CSRF,
    KESTREL,
    PASSWORD,
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

CAMPAIGN = PROJECT_ROOT / "examples" / "campaigns" / "aurora-spring.yaml"
SSO = "X-Forwarded-Email"


def image_bytes(kind: str, rgb: tuple[int, int, int] = (40, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), rgb).save(out, format=kind)
    return out.getvalue()


def submit(web: Web, csrf: str, files: Any = None, **fields: str | list[str]) -> Response:
    return web.client.post(
        "/briefs",
        data={**form_data(**fields), "csrf_token": csrf, "action": "submit"},
        files=files,
        follow_redirects=False,
    )


def api_json(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {k: v for k, v in form_data().items() if k != "language"}
    data["duration_s"] = 15
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- SSO


@pytest.fixture
def sso_client(web: Web) -> Iterator[TestClient]:
    """The same installation and database, behind a trusted SSO proxy (TestClient's host)."""
    trusted = web.settings.model_copy(update={"web_trusted_proxies": ["testclient"]})
    with TestClient(create_app(trusted), base_url="http://testserver") as client:
        yield client


def test_sso_header_from_a_trusted_proxy_signs_in(web: Web, sso_client: TestClient) -> None:
    resp = sso_client.get(
        "/login", params={"next": "/briefs/new"}, headers={SSO: SUBMITTER}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/briefs/new"
    assert "reel_session=" in resp.headers["set-cookie"]
    page = sso_client.get("/briefs/new")
    assert page.status_code == 200 and SUBMITTER in page.text
    # The SSO header's email is matched as the model normalises emails.
    fresh = TestClient(sso_client.app, base_url="http://testserver")
    shouted = fresh.get("/login", headers={SSO: f"  {SUBMITTER.upper()} "}, follow_redirects=False)
    assert shouted.status_code == 303
    # ?next= stays on this site on the SSO path too.
    off_site = fresh.get(
        "/login",
        params={"next": "//evil.example/x"},
        headers={SSO: SUBMITTER},
        follow_redirects=False,
    )
    assert off_site.headers["location"] == "/briefs"


def test_sso_header_for_an_unknown_email_does_not_sign_in(sso_client: TestClient) -> None:
    resp = sso_client.get(
        "/login", headers={SSO: "nobody@aurora-coffee.example"}, follow_redirects=False
    )
    assert resp.status_code == 200
    assert 'id="password"' in resp.text
    assert "reel_session=" not in resp.headers.get("set-cookie", "")
    assert sso_client.get("/briefs", follow_redirects=False).status_code == 303


def test_sso_header_from_an_untrusted_client_is_ignored(web: Web) -> None:
    resp = web.client.get("/login", headers={SSO: SUBMITTER}, follow_redirects=False)
    assert resp.status_code == 200
    assert 'id="password"' in resp.text
    assert "reel_session=" not in resp.headers.get("set-cookie", "")
    assert web.client.get("/briefs", follow_redirects=False).status_code == 303


# --------------------------------------------------------------------------- uploads


def test_a_reference_image_is_moderated_stored_and_kept_on_the_brief(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    image = png((30, 60, 170))
    digest = hashlib.sha256(image).hexdigest()
    resp = submit(
        web, csrf, files={"references": ("moodboard.png", image, "image/png")}, title="With a ref"
    )
    assert resp.status_code == 303, resp.text[:2000]
    brief_id = resp.headers["location"].rsplit("/", 1)[-1]
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, brief_id)
        assert row is not None
    refs = row.brief().references
    assert [r.sha256 for r in refs] == [digest]
    assert refs[0].media_type == "image/png" and (refs[0].width, refs[0].height) == (64, 64)
    assert refs[0].size == len(image)
    stored = web.settings.assets_dir / "references" / f"{digest}.png"
    assert stored.read_bytes() == image
    sent = read_run(row.flow_run_id).parameters["brief"]["references"]
    assert [r["sha256"] for r in sent] == [digest]
    assert "1 (moderated" in web.client.get(f"/briefs/{brief_id}").text


def test_jpeg_and_webp_references_are_accepted(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    jpeg, webp = image_bytes("JPEG"), image_bytes("WEBP", (20, 120, 60))
    resp = submit(
        web,
        csrf,
        files=[
            ("references", ("a.jpg", jpeg, "image/jpeg")),
            ("references", ("b.webp", webp, "image/webp")),
        ],
        title="Two refs",
    )
    assert resp.status_code == 303, resp.text[:2000]
    with session_for(web.settings.db_url) as session:
        row = brief_row(session, resp.headers["location"].rsplit("/", 1)[-1])
        assert row is not None
    refs = row.brief().references
    assert [(r.media_type, r.sha256) for r in refs] == [
        ("image/jpeg", hashlib.sha256(jpeg).hexdigest()),
        ("image/webp", hashlib.sha256(webp).hexdigest()),
    ]
    assert all(r.uri.endswith((".jpg", ".webp")) for r in refs)


BAD_REFERENCES = [
    ("x.png", b"just some text, not pixels", "x.png: not a readable image"),
    ("anim.gif", image_bytes("GIF"), "anim.gif: GIF is not a PNG, JPEG or WebP"),
    ("renamed.png", image_bytes("GIF"), "renamed.png: GIF is not a PNG, JPEG or WebP"),
    ("empty.png", b"", "empty.png: the file is empty"),
]


def test_a_bad_reference_is_refused_inline_naming_the_file(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    rows, runs = brief_count(web.settings), flow_run_count()
    for name, data, says in BAD_REFERENCES:
        resp = submit(
            web, csrf, files={"references": (name, data, "image/png")}, audience="Refusers"
        )
        assert resp.status_code == 422, name
        errors = resp.text.split('id="references-error"')[1].split("</ul>")[0]
        assert says in errors
        assert 'value="Refusers"' in resp.text  # the rest of the form is kept
    assert brief_count(web.settings) == rows and flow_run_count() == runs
    assert not (web.settings.assets_dir / "references").exists()


def test_too_many_references_are_refused(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    files = [("references", (f"{i}.png", png((i * 40, 80, 160)), "image/png")) for i in range(5)]
    resp = submit(web, csrf, files=files)
    assert resp.status_code in (400, 413, 422)
    assert "files" in resp.text.lower() or "references" in resp.text


# --------------------------------------------------------------------------- check


def test_check_shows_shots_and_verdict_and_saves_nothing(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    rows, runs = brief_count(web.settings), flow_run_count()
    title = "Checked, not submitted"
    resp = web.client.post(
        "/briefs", data={**form_data(title=title), "csrf_token": csrf, "action": "check"}
    )
    assert resp.status_code == 200, resp.text[:2000]
    check = resp.text.split('id="check"')[1]
    assert 'verdict-allow">allow</span>' in check
    table = check.split('<table class="shots">')[1].split("</table>")[0]
    assert table.count("<tr>") >= 3 and title in table  # header + shots; the title is a caption
    assert f'value="{title}"' in resp.text  # still the form, ready to submit
    # A claim without its disclaimer: the check says review, and lists why.
    review = web.client.post(
        "/briefs",
        data={
            **form_data(message="Clinically proven to taste better."),
            "csrf_token": csrf,
            "action": "check",
        },
    )
    assert review.status_code == 200
    assert 'verdict-review">review</span>' in review.text
    assert "clinically proven" in review.text.split('class="findings"')[1]
    # A banned term blocks: shown on the form, nothing else.
    blocked = web.client.post(
        "/briefs",
        data={
            **form_data(message="A miracle in every cup."),
            "csrf_token": csrf,
            "action": "check",
        },
    )
    assert blocked.status_code == 422 and "miracle" in blocked.text
    assert 'id="form-errors"' in blocked.text
    assert brief_count(web.settings) == rows and flow_run_count() == runs


def test_api_check_saves_nothing(web: Web) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    rows, runs = brief_count(web.settings), flow_run_count()
    ok = web.client.post("/api/v1/briefs/check", json=api_json(), headers=auth)
    assert ok.status_code == 200 and ok.json()["verdict"] == "allow"
    assert len(ok.json()["shots"]) >= 2
    blocked = web.client.post(
        "/api/v1/briefs/check", json=api_json(message="A miracle in every cup."), headers=auth
    )
    assert blocked.json()["verdict"] == "block" and blocked.json()["shots"] == []
    assert any("miracle" in f for f in blocked.json()["findings"])
    assert brief_count(web.settings) == rows and flow_run_count() == runs


# --------------------------------------------------------------------------- API list


def test_api_list_filters_by_brand_date_and_state(web: Web) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    kestrel = api_headers(web.settings, KESTREL)
    for title in ("Listed one", "Listed two"):
        made = web.client.post("/api/v1/briefs", json=api_json(title=title), headers=auth)
        assert made.status_code == 201, made.text
    other = web.client.post(
        "/api/v1/briefs", json=api_json(brand="kestrel-bikes", title="Kestrel's"), headers=kestrel
    )
    assert other.status_code == 201, other.text
    today = datetime.now(UTC).date()
    day = timedelta(days=1)

    def titles(**params: str) -> list[str]:
        resp = web.client.get("/api/v1/briefs", params=params, headers=auth)
        assert resp.status_code == 200, resp.text
        return [b["title"] for b in resp.json()]

    assert titles() == ["Listed two", "Listed one"]  # newest first, own brands only
    assert titles(brand="aurora-coffee", since=today.isoformat()) == ["Listed two", "Listed one"]
    assert titles(since=(today + day).isoformat()) == []
    assert titles(until=today.isoformat()) == ["Listed two", "Listed one"]  # the whole day
    assert titles(until=(today - day).isoformat()) == []
    assert titles(brand="kestrel-bikes") == []  # not visible to this user
    assert titles(state="queued") == ["Listed two", "Listed one"]
    assert titles(state="published") == []
    queued = web.client.get("/api/v1/briefs", params={"state": "queued"}, headers=auth).json()
    assert {b["phase"] for b in queued} == {"queued"} and not any(b["final"] for b in queued)
    for name in ("since", "until"):
        bad = web.client.get("/api/v1/briefs", params={name: "2026-02-30"}, headers=auth)
        assert bad.status_code == 422
        assert bad.json()["detail"].startswith(f"{name}:")


def test_list_page_filters_and_a_bad_date(web: Web) -> None:
    csrf = web.login(SUBMITTER)
    assert submit(web, csrf, title="On the list").status_code == 303
    today = datetime.now(UTC).date()
    assert "On the list" in web.client.get("/briefs", params={"since": today.isoformat()}).text
    later = (today + timedelta(days=1)).isoformat()
    assert "On the list" not in web.client.get("/briefs", params={"since": later}).text
    assert "On the list" in web.client.get("/briefs", params={"state": "queued"}).text
    assert "On the list" not in web.client.get("/briefs", params={"state": "failed"}).text
    bad = web.client.get("/briefs", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert "since: not a date" in bad.text


# --------------------------------------------------------------------------- campaigns


def campaign_spec(submitted_by: str | None = SUBMITTER, budget: bool = False) -> dict[str, Any]:
    spec = read_yaml(CAMPAIGN)
    assert isinstance(spec, dict)
    if submitted_by is None:
        spec["base"].pop("submitted_by")
    else:
        spec["base"]["submitted_by"] = submitted_by
    if not budget:
        spec.pop("budget")
    return spec


def test_an_invalid_campaign_is_422_with_field_errors(web: Web) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    runs = flow_run_count()
    spec = campaign_spec() | {"id": "Not A Slug", "concurrency": 99}
    resp = web.client.post("/api/v1/campaigns", json=spec, headers=auth)
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.json()["errors"]}
    assert {"id", "concurrency"} <= fields
    bad_format = campaign_spec()
    bad_format["matrix"]["formats"] = ["social-teaser-15", "no-such-format"]
    resp = web.client.post("/api/v1/campaigns", json=bad_format, headers=auth)
    assert resp.status_code == 422
    assert "no-such-format" in resp.text
    unpriced = web.client.post("/api/v1/campaigns", json=campaign_spec(budget=True), headers=auth)
    assert unpriced.status_code == 422 and "budget" in unpriced.json()["detail"]
    assert flow_run_count() == runs


def test_a_campaign_for_another_brand_is_403(web: Web) -> None:
    auth = api_headers(web.settings, KESTREL)
    runs = flow_run_count()
    resp = web.client.post("/api/v1/campaigns", json=campaign_spec(KESTREL), headers=auth)
    assert resp.status_code == 403
    assert "aurora-coffee" in resp.json()["detail"]
    assert flow_run_count() == runs


def test_a_campaign_may_not_name_another_submitter(web: Web) -> None:
    """Separation of duties rests on ``submitted_by``: a token may not set someone else."""
    with session_for(web.settings.db_url) as session:
        add_user(session, "ada.admin@aurora-coffee.example", password=PASSWORD,
                 grants=[(Role.ADMIN, "aurora-coffee")])  # fmt: skip
    auth = api_headers(web.settings, "ada.admin@aurora-coffee.example")
    runs = flow_run_count()
    forged = campaign_spec("maya.chen@aurora-coffee.example")
    resp = web.client.post("/api/v1/campaigns", json=forged, headers=auth)
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["base.submitted_by"]
    assert flow_run_count() == runs


def test_a_valid_campaign_starts_a_campaign_batch_run(web: Web, campaign_deployment: str) -> None:
    auth = api_headers(web.settings, SUBMITTER)
    resp = web.client.post("/api/v1/campaigns", json=campaign_spec(None), headers=auth)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["campaign"] == "aurora-spring" and body["videos"] == 24
    run = read_run(body["flow_run_id"])
    assert run.deployment_id is not None
    assert run.parameters["campaign"]["id"] == "aurora-spring"
    # No submitted_by in the spec: the token's user, as for a brief.
    assert run.parameters["campaign"]["base"]["submitted_by"] == SUBMITTER
    assert "campaign-run:aurora-spring" in run.tags
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(campaign_deployment)
    assert run.deployment_id == deployment.id


def test_a_missing_deployment_is_503_and_saves_nothing(web: Web) -> None:
    """Prefect cannot start the run: say so, keep no brief row (the form or the API)."""
    app = create_app(
        web.settings, deployment="no-such/deployment", campaign_deployment="no-such/deployment"
    )
    auth = api_headers(web.settings, SUBMITTER)
    rows, runs = brief_count(web.settings), flow_run_count()
    with TestClient(app, base_url="http://testserver") as client:
        brief = client.post("/api/v1/briefs", json=api_json(title="Nowhere"), headers=auth)
        assert brief.status_code == 503 and "nothing was saved" in brief.json()["detail"]
        campaign = client.post("/api/v1/campaigns", json=campaign_spec(), headers=auth)
        assert campaign.status_code == 503, campaign.text
        assert "could not start" in campaign.json()["detail"]
        csrf = web.login(SUBMITTER)
        client.cookies.update(web.client.cookies)
        form = client.post(
            "/briefs", data={**form_data(title="Nowhere"), "csrf_token": csrf, "action": "submit"}
        )
        assert form.status_code == 503
        assert (
            "could not start the run: ObjectNotFound" in form.text
            and 'id="form-errors"' in form.text
        )
    assert brief_count(web.settings) == rows and flow_run_count() == runs


# --------------------------------------------------------------------------- redirects, headers


def test_login_never_redirects_off_site(web: Web) -> None:
    targets = ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
    for target in targets:
        token = CSRF.search(web.client.get("/login", params={"next": target}).text)
        assert token
        form = {
            "email": SUBMITTER,
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": target,
        }
        resp = web.client.post("/login", data=form, follow_redirects=False)
        assert resp.status_code == 303, target
        location = resp.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), target
        assert "\\" not in location and urlsplit(location).netloc == "", target
        if target != "/\\evil.example":
            assert location == "/briefs", target


def test_login_keeps_a_local_next(web: Web) -> None:
    token = CSRF.search(web.client.get("/login").text)
    assert token
    form = {
        "email": SUBMITTER,
        "password": PASSWORD,
        "csrf_token": token.group(1),
        "next": "/briefs/new",
    }
    resp = web.client.post("/login", data=form, follow_redirects=False)
    assert resp.headers["location"] == "/briefs/new"


def test_html_pages_carry_security_headers(web: Web) -> None:
    def check(resp: Response) -> None:
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["cache-control"] == "no-store"

    login = web.client.get("/login")
    assert login.headers["content-type"].startswith("text/html")
    check(login)
    csrf = web.login(SUBMITTER)
    created = submit(web, csrf, title="Headers")
    for path in ("/briefs", "/briefs/new", created.headers["location"], "/briefs/nope"):
        check(web.client.get(path))
    check(web.client.post("/briefs", data={**form_data(title=""), "csrf_token": csrf}))
    check(created)


# --------------------------------------------------------------------------- status (pure)


@pytest.mark.parametrize(
    ("facts", "phase", "detail"),
    [
        (RunFacts(None, "Not started"), "queued", "Waiting for a worker"),
        (RunFacts("SCHEDULED", "Scheduled"), "queued", "Waiting for a worker"),
        (RunFacts("PENDING", "Pending"), "queued", "Waiting for a worker"),
        (RunFacts("RUNNING", "Running"), "rendering", "Planning and checking"),
        (
            RunFacts("RUNNING", "Running", renders_done=2, renders_total=5),
            "rendering",
            "Rendering: 2/5 shots done.",
        ),
        (
            RunFacts("RUNNING", "Running", renders_done=5, renders_total=5),
            "rendering",
            "assembling the cuts",
        ),
        (RunFacts("RUNNING", "Running", approved=True), "approved", "publishing"),
        (RunFacts("PAUSED", "Paused", pause_key="review-1"), "in review", "moderation reviewer"),
        (
            RunFacts("PAUSED", "Suspended", pause_key="approval-2"),
            "waiting for approval",
            "brand approver",
        ),
        (RunFacts("PAUSED", "Paused"), "waiting for approval", "brand approver"),
        (RunFacts("COMPLETED", "Completed", published=2), "published", "2 cut(s) published."),
        (RunFacts("COMPLETED", "Rejected", message="Off brand."), "rejected", "Off brand."),
        (RunFacts("COMPLETED", "Rejected"), "rejected", "The approver rejected it."),
        (RunFacts("COMPLETED", "Completed"), "failed", "without publishing"),
        (RunFacts("FAILED", "Blocked", message="miracle"), "blocked", "miracle"),
        (RunFacts("CRASHED", "Blocked"), "blocked", "Moderation blocked it."),
        (RunFacts("FAILED", "Failed", message="boom"), "failed", "boom"),
        (RunFacts("CANCELLED", "Cancelled"), "failed", "The run ended Cancelled."),
        (RunFacts("CANCELLING", "Cancelling"), "unknown", "Cancelling"),
    ],
)
def test_status_of_each_phase(facts: RunFacts, phase: str, detail: str) -> None:
    status = status_of(facts)
    assert status.phase == phase
    assert detail in status.detail
    assert status.final is (phase in {"published", "rejected", "blocked", "failed"})
    assert status.as_json() == {"phase": phase, "detail": status.detail, "final": status.final}


def test_status_of_reads_state_types_in_any_case() -> None:
    assert status_of(RunFacts("completed", "Completed", published=1)).phase == "published"


# --------------------------------------------------------------------------- forms (pure)


def _values(**typed: str | list[str]) -> forms.FormValues:
    return forms.form_values(form_data(**typed))


def test_brief_payload_maps_fields_and_translation_slots() -> None:
    values = _values(
        steps="Grind\n\n  Pour  \r\nWait",
        mandatory_elements="the red bag\n",
        campaign="  spring-launch ",
        tone="   ",
        tr1_lang="",
        tr1_title="ignored: no language",
        tr2_lang=" de ",
        tr2_title="Sunrise Blend ist da",
        tr2_message="Langsame Morgen schmecken besser.",
        tr2_call_to_action="Bestelle auf aurora.example",
        tr2_steps="Mahlen\nGiessen\nWarten",
    )
    payload = forms.brief_payload(values, submitted_by=SUBMITTER)
    assert payload["steps"] == ["Grind", "Pour", "Wait"]
    assert payload["mandatory_elements"] == ["the red bag"]
    assert payload["campaign"] == "spring-launch"
    assert "tone" not in payload
    assert payload["submitted_by"] == SUBMITTER
    assert payload["languages"] == ["en", "de"]
    assert payload["translations"] == {
        "de": {
            "title": "Sunrise Blend ist da",
            "message": "Langsame Morgen schmecken besser.",
            "call_to_action": "Bestelle auf aurora.example",
            "steps": ["Mahlen", "Giessen", "Warten"],
        }
    }
    brief = Brief.model_validate(payload)
    assert brief.copy_in("de").title == "Sunrise Blend ist da"
    bare = forms.brief_payload(_values(duration_s="", language=""), submitted_by=SUBMITTER)
    assert bare["duration_s"] is None and bare["language"] == "en"
    assert "translations" not in bare and "languages" not in bare and "campaign" not in bare


def test_form_values_keep_what_was_typed_minus_control_characters() -> None:
    values = forms.form_values(
        {"title": "A\u202eB\x00C", "steps": "one\r\ntwo\tthree", "aspect_ratios": "9:16"}
    )
    assert values["title"] == "ABC"
    assert values["steps"] == "one\ntwo\tthree"
    assert values["aspect_ratios"] == ["9:16"]
    assert values["tr2_message"] == ""


def test_field_for_maps_translation_errors_to_their_slot() -> None:
    values = _values(tr1_lang="fr", tr2_lang="de")
    assert forms.field_for(("translations", "de", "title"), values) == "tr2_title"
    assert forms.field_for(("translations", "fr", "steps", 0), values) == "tr1_steps"
    assert forms.field_for(("translations", "de", "voice_over"), values) == "tr2_lang"
    assert forms.field_for(("translations", "de"), values) == "tr2_lang"
    assert forms.field_for(("translations", "it", "title"), values) == forms.ROOT
    assert forms.field_for(("languages", 1), values) == "language"
    assert forms.field_for(("steps", 2), values) == "steps"
    assert forms.field_for(("aspect_ratios", 0), values) == "aspect_ratios"
    assert forms.field_for(("references",), values) == forms.ROOT
    assert forms.field_for((), values) == forms.ROOT


def test_validation_errors_land_on_form_fields() -> None:
    values = _values(
        title="",
        duration_s="ninety",
        aspect_ratios=["16:9", "5:4"],
        tr1_lang="de",
        tr1_title="",
        tr1_message="Hallo",
        tr1_call_to_action="Los",
    )
    with pytest.raises(ValidationError) as caught:
        Brief.model_validate(forms.brief_payload(values, submitted_by=SUBMITTER))
    errors = forms.validation_errors(caught.value, values)
    assert set(errors) == {"title", "duration_s", "aspect_ratios", "tr1_title"}
    assert any("'ninety'" in e for e in errors["duration_s"])
    assert any("5:4" in e for e in errors["aspect_ratios"])
    missing = _values()
    missing.pop("message")
    payload = forms.brief_payload({**missing, "message": ""}, submitted_by=SUBMITTER)
    payload.pop("message")
    with pytest.raises(ValidationError) as caught:
        Brief.model_validate(payload)
    assert forms.validation_errors(caught.value, missing) == {"message": ["required"]}


def test_problem_errors_map_lines_to_fields() -> None:
    values = _values(tr1_lang="de")
    errors = forms.problem_errors(
        [
            "duration_s: 45 s is outside 10-20 s",
            "translations.de.steps: 1 steps, but the brief has 3",
            "translations.it.title: no such slot",
            "format 'x' has no template",
            "steps: 3 given",
        ],
        values,
    )
    assert errors == {
        "duration_s": ["45 s is outside 10-20 s"],
        "tr1_steps": ["1 steps, but the brief has 3"],
        forms.ROOT: ["translations.it.title: no such slot", "format 'x' has no template"],
        "steps": ["3 given"],
    }
