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
