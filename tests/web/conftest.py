"""Fixtures of the web tests: a migrated SQLite study database with two sites and one user per
role, an application, and logged-in API clients (bearer tokens) for every role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
from pg_server import PostgresServer

PASSWORD = "correct horse battery"
PG_WEB_TEMPLATE = "cletrial_web_template"
ROLES = ("investigator", "coordinator", "monitor", "data_manager", "statistician", "administrator")


@dataclass
class Study:
    engine: Engine
    url: str
    site_a: int
    site_b: int
    study_id: int


def build_study(url: str) -> Study:
    """A study with sites A and B; ``<role>`` users work at A, ``other`` (investigator) at B."""
    engine = create_engine_for(url)
    upgrade(engine)
    with UnitOfWork(engine, user="setup") as uow:
        study = uow.studies.create(
            code="LEN",
            title="Lenalidomide in CLE",
            protocol_id="lenalidomide-cle-2012",
            protocol_version="1.0.0",
        )
        a = uow.sites.create(study_id=study.id, code="A", name="Site A")
        b = uow.sites.create(study_id=study.id, code="B", name="Site B")
        for role in ROLES:
            uow.users.create(
                username=role,
                password=PASSWORD,
                role=role,
                display_name=f"Dr {role.title()}",
                site_ids=[a.id],
            )
        uow.users.create(
            username="other",
            password=PASSWORD,
            role="investigator",
            display_name="Dr Other",
            site_ids=[b.id],
        )
    return Study(engine, url, a.id, b.id, study.id)


@pytest.fixture(scope="session")
def study_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database with users, copied for each test (hashing passwords is slow)."""
    path = tmp_path_factory.mktemp("web") / "template.sqlite"
    study = build_study(f"sqlite:///{path}")
    study.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_study_template(pg_server: PostgresServer) -> str:
    """The same study as ``study_template`` in a PostgreSQL database (copied for each test)."""
    url = pg_server.create_database(PG_WEB_TEMPLATE)
    build_study(url).engine.dispose()
    return PG_WEB_TEMPLATE


def _open_study(url: str) -> Iterator[Study]:
    engine = create_engine_for(url)
    with UnitOfWork(engine, read_only=True) as uow:
        sites = {s.code: s.id for s in uow.sites.list()}
        study_id = uow.studies.list()[0].id
    yield Study(engine, url, sites["A"], sites["B"], study_id)
    engine.dispose()


@pytest.fixture
def study(study_template: Path, tmp_path: Path) -> Iterator[Study]:
    """A fresh copy of the web study on SQLite."""
    target = tmp_path / "study.sqlite"
    target.write_bytes(study_template.read_bytes())
    yield from _open_study(f"sqlite:///{target}")


@pytest.fixture
def pg_study(pg_server: PostgresServer, pg_study_template: str) -> Iterator[Study]:
    """A fresh copy of the web study on PostgreSQL."""
    url = pg_server.create_database(f"w_{uuid.uuid4().hex[:12]}", template=pg_study_template)
    yield from _open_study(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_study(request: pytest.FixtureRequest) -> Study:
    """The web study on each engine in turn. A module runs on both by overriding ``study``::

    @pytest.fixture
    def study(db_study: Study) -> Study:
        return db_study
    """
    name = "study" if request.param == "sqlite" else "pg_study"
    found: Study = request.getfixturevalue(name)
    return found


@pytest.fixture
def app(study: Study):  # type: ignore[no-untyped-def]
    return create_app(WebSettings(database_url=study.url), engine=study.engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    """Log in through the API and return the bearer header."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


class LazyHeaders(dict[str, dict[str, str]]):
    """Bearer headers by user name, logging in on first use (argon2 makes logins slow)."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def __missing__(self, username: str) -> dict[str, str]:
        self[username] = login(self.client, username)
        return self[username]


@pytest.fixture
def headers(client: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers for every role and for ``other`` (site B)."""
    return LazyHeaders(client)


def _eligible_screening() -> dict[str, object]:
    """The bundled example screening (eligible), dated 2024-01-10 (labs 2024-01-05)."""
    text = (Path(__file__).parents[2] / "examples" / "screening.json").read_text()
    text = text.replace("2009-01-15", "2024-01-10").replace("2009-01-10", "2024-01-05")
    record = json.loads(text)
    record.pop("birth_date", None)
    record["age_years"] = 40
    return dict(record)


#: An eligible screening record: the enrolment gate lets its patient be dosed.
SCREENING = _eligible_screening()


def make_patient(client: TestClient, h: dict[str, str], site_id: int, code: str = "A-001") -> int:
    """Screen a patient through the API; return its id."""
    body = {
        "site_id": site_id,
        "study_code": code,
        "screening_date": "2024-01-10",
        "sex": "F",
        "screening": SCREENING,
    }
    response = client.post("/api/patients", json=body, headers=h)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


#: A baseline visit with complete forms (the store refuses blank items).
BASELINE = {
    "visit_date": "2024-01-15",
    "kind": "baseline",
    "clasi": fill_absent_clasi_items(
        {"regions": {"arms": {"erythema": 2, "scale": 1}, "nose": {"erythema": 3}}}
    ),
    "sledai": fill_absent_sledai_items({"rash": True}),
    "labs": [{"test": "neutrophils", "value": 1190, "unit": "/mm3"}],
    "dose": {"regimen": "5_daily"},
}


def make_visit(
    client: TestClient, h: dict[str, str], patient_id: int, body: dict[str, object] | None = None
) -> dict[str, object]:
    response = client.post(f"/api/patients/{patient_id}/visits", json=body or BASELINE, headers=h)
    assert response.status_code == 201, response.text
    return dict(response.json())
