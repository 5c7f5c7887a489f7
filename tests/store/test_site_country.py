"""A site's country (ISO 3166-1 alpha-3, SDTM DM.COUNTRY): refused when it is not one, on the
store, the import and the API; exported, imported back, and carried into DM."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cletrial.errors import ImportFileError, InputError
from cletrial.standards.sdtm.build import build_sdtm
from cletrial.store import UnitOfWork
from cletrial.store.import_export import export_rows, import_path
from cletrial.store.submission_source import load_study_source

from .conftest import IMPORT_DOCUMENT, Seed


@pytest.mark.parametrize("bad", ["ES", "esp", "Spain", "ZZZ", "", "E\x00P"])
def test_a_country_that_is_not_iso_alpha_3_is_refused_naming_it(seed: Seed, bad: str) -> None:
    with UnitOfWork(seed.engine, user="admin") as uow, pytest.raises(InputError) as caught:
        uow.sites.create(study_id=seed.study_id, code="NEW", name="New site", country=bad)
    assert caught.value.field == "sites.country" and caught.value.value == bad
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.sites.by_code(seed.study_id, "NEW") is None  # nothing half-written


def test_a_country_is_stored_audited_and_carried_into_dm(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="admin") as uow:
        site = uow.sites.get(seed.site_id)
        uow.update("sites", site.id, {"country": "ESP"}, expected_version=site.version,
                   reason="country recorded")  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.sites.get(seed.site_id).country == "ESP"
        changed = [r for r in uow.history("sites", seed.site_id) if r.field == "country"]
        source = load_study_source(uow, "LEN")
    assert changed and (changed[-1].old_value, changed[-1].new_value) == ("null", '"ESP"')
    dm = build_sdtm(source).datasets["DM"].frame
    assert dm.set_index("SUBJID").loc["P01", "COUNTRY"] == "ESP"


def test_the_import_refuses_a_bad_country_and_keeps_everything(
    db_engine: Engine, tmp_path: Path
) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["sites"][0]["country"] = "Spain"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"country.*Spain.*ISO 3166-1 alpha-3"):
        import_path(db_engine, path, user="dm")
    with UnitOfWork(db_engine, read_only=True) as uow:
        assert uow.sites.list() == []  # the import is atomic


def test_the_country_goes_out_with_the_export_and_comes_back(
    db_engine: Engine, tmp_path: Path
) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["sites"][0]["country"] = "ESP"
    path = tmp_path / "good.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    import_path(db_engine, path, user="dm")
    with UnitOfWork(db_engine, read_only=True) as uow:
        rows = export_rows(uow.connection)["sites"]
    assert {r["site"]: r.get("country") for r in rows} == {"BCN": "ESP", "MAD": None}
