"""The web app under FastAPI's TestClient, on a real Prefect server and a real database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from reelfactory.accounts import Role, add_user
from reelfactory.db import session_for
from reelfactory.settings import Settings
from reelfactory.web.app import create_app

PASSWORD = "correct horse battery"
SUBMITTER = "sam.submit@aurora-coffee.example"
KESTREL = "kim.kestrel@kestrel-bikes.example"
APPROVER = "maya.chen@aurora-coffee.example"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    client: TestClient
    settings: Settings

    def login(self, email: str, password: str = PASSWORD) -> str:
        """Sign in; return the session's CSRF token (from the next page's forms)."""
        page = self.client.get("/login")
        token = CSRF.search(page.text)
        assert token, page.text
        resp = self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert resp.status_code == 303, resp.text
        return self.csrf()

    def csrf(self) -> str:
        page = self.client.get("/briefs/new")
        found = CSRF.search(page.text)
        assert found, page.text
        return found.group(1)


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_login_attempts": 3})


@pytest.fixture
def web(prefect_api: str, web_settings: Settings) -> Iterator[Web]:
    app = create_app(web_settings)
    with session_for(web_settings.db_url) as session:
        add_user(session, SUBMITTER, password=PASSWORD, grants=[(Role.SUBMITTER, "aurora-coffee")])
        add_user(session, KESTREL, password=PASSWORD, grants=[(Role.SUBMITTER, "kestrel-bikes")])
        add_user(session, APPROVER, password=PASSWORD, grants=[(Role.APPROVER, "aurora-coffee")])
    with TestClient(app, base_url="http://testserver") as client:
        yield Web(client, web_settings)


def form_data(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "brand": "aurora-coffee",
        "format": "social-teaser-15",
        "title": "Sunrise Blend is here",
        "message": "Slow mornings taste better with Sunrise Blend.",
        "audience": "Home brewers",
        "call_to_action": "Order at aurora.example",
        "duration_s": "15",
        "aspect_ratios": ["16:9"],
        "language": "en",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- shared helpers


def api_headers(settings: Settings, email: str) -> dict[str, str]:
    """``Authorization: Bearer`` for a new API token of ``email`` (an existing user)."""
    from reelfactory.accounts import new_api_token, user_by_email

    with session_for(settings.db_url) as session:
        user = user_by_email(session, email)
        assert user is not None, email
        return {"Authorization": f"Bearer {new_api_token(session, user, 'test')}"}


def brief_count(settings: Settings) -> int:
    """Rows in the ``brief`` table of this test's database."""
    from sqlalchemy import func
    from sqlmodel import select

    from reelfactory.accounts import BriefRow

    with session_for(settings.db_url) as session:
        return int(session.exec(select(func.count()).select_from(BriefRow)).one())


def flow_run_count() -> int:
    """Flow runs on the (session-wide, shared) Prefect server: compare, never expect a total."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.count_flow_runs()


def png(rgb: tuple[int, int, int] = (40, 90, 200), size: tuple[int, int] = (64, 64)) -> bytes:
    """A small plain-colour PNG, made in memory."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def campaign_deployment(prefect_api: str) -> str:
    """The campaign-batch deployment on the shared server, with nothing serving it."""
    from prefect.deployments.runner import RunnerDeployment

    from flows.campaign_batch import DEPLOYMENT_NAME, FLOW_NAME, campaign_batch

    deployment = campaign_batch.to_deployment(name=DEPLOYMENT_NAME)
    assert isinstance(deployment, RunnerDeployment)
    deployment.apply()
    return f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
