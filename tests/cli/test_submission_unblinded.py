"""`cletrial submission` of a randomised study: DM carries each subject's randomised arm, so the
package needs `--unblinded` and a statistician's e-signature; without it, it is refused, and the
web download of such a study is refused too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, PASSWORD, build_study, login, make_patient
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.randomisation import generate_allocation_list
from cletrial.standards.xpt import read_xpt
from cletrial.store import UnitOfWork
from cletrial.store.randomisation import import_allocation_list
from cletrial.web.app import create_app
from cletrial.web.settings import WebSettings

PROTOCOL = "lenalidomide-vs-placebo-cle"
runner = CliRunner()


@pytest.fixture(scope="module")
def randomised(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A study running the placebo template with one randomised, dosed patient: the URL and
    the arm of the patient's slot."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rct.sqlite'}"
    study = build_study(url)
    allocation = generate_allocation_list({"subtype": ["DLE", "SCLE"]}, {"LEN": 1, "PBO": 1},
                                          block_sizes=[2], per_stratum=2, seed=7,
                                          environment="production")  # fmt: skip
    with UnitOfWork(study.engine, user="setup") as uow:
        row = uow.get("studies", study.study_id)
        uow.update("studies", study.study_id, {"protocol_id": PROTOCOL},
                   expected_version=row["version"], reason="randomised template")  # fmt: skip
        import_allocation_list(uow, study.study_id, allocation, environment="production")
        manager = uow.users.by_username("data_manager")
        assert manager is not None
        uow.users.add_site(manager.id, study.site_b)  # the download needs every site
    web = create_app(WebSettings(database_url=url, protocol=PROTOCOL), engine=study.engine)
    with TestClient(web) as client:
        h = login(client, "investigator")
        pid = make_patient(client, h, study.site_a)
        body = {"strata": {"subtype": "DLE"}, "reason": "eligible, consented"}
        assert (
            client.post(f"/api/patients/{pid}/randomise", json=body, headers=h).status_code == 201
        )
        assert (
            client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h).status_code == 201
        )
        stats = login(client, "data_manager")
        refused = client.get("/api/exports/submission.zip", headers=stats)
        assert refused.status_code == 403, refused.text
        assert "arms are sealed" in refused.text and "--unblinded" in refused.text
    study.engine.dispose()
    first = next(s for s in allocation.slots if s.stratum == "subtype=DLE")
    return url, first.arm


def _run(url: str, out: Path, *extra: str, stdin: str | None = None) -> tuple[int, str]:
    args = ["submission", "--database", url, "--out", str(out), *extra]
    result = runner.invoke(app, args, input=stdin)
    return result.exit_code, result.output


def test_a_blinded_package_of_a_randomised_study_is_refused(
    randomised: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = randomised
    code, output = _run(url, tmp_path / "pkg")
    assert code == 2 and "is randomised and the arms are sealed" in output
    assert "--unblinded" in output and not (tmp_path / "pkg").exists()


def test_only_a_statistician_takes_the_arms_into_the_package(
    randomised: tuple[str, str], tmp_path: Path
) -> None:
    url, arm = randomised
    code, output = _run(url, tmp_path / "no", "--unblinded", "--user", "investigator",
                        "--password-stdin", stdin=PASSWORD)  # fmt: skip
    assert code == 2 and "only a statistician" in output and not (tmp_path / "no").exists()
    code, output = _run(url, tmp_path / "bad", "--unblinded", "--user", "statistician",
                        "--password-stdin", stdin="wrong")  # fmt: skip
    assert code == 2 and "password not recognised" in output
    code, output = _run(url, tmp_path / "pkg", "--unblinded", "--user", "statistician",
                        "--password-stdin", stdin=PASSWORD)  # fmt: skip
    assert code in (0, 1), output  # 1: conformance findings (DM.COUNTRY is not stored)
    dm = read_xpt(tmp_path / "pkg" / "sdtm" / "dm.xpt")
    assert dm["ARMCD"].tolist() == [arm] and dm["ACTARMCD"].tolist() == [arm]
    ta = read_xpt(tmp_path / "pkg" / "sdtm" / "ta.xpt")
    assert set(ta["ARMCD"]) == {"LEN", "PBO"}
    adsl = read_xpt(tmp_path / "pkg" / "adam" / "adsl.xpt")
    assert adsl["TRT01P"].tolist() == [{"LEN": "Lenalidomide", "PBO": "Placebo"}[arm]]
    ex = read_xpt(tmp_path / "pkg" / "sdtm" / "ex.xpt")  # what the arm's kit held
    treatment, mg = {"LEN": ("LENALIDOMIDE", 5.0), "PBO": ("PLACEBO", 0.0)}[arm]
    assert ex["EXTRT"].tolist() == [treatment] and ex["EXDOSE"].tolist() == [mg]
