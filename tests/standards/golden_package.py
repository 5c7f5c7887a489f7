"""The golden files of the tiny two-dataset package (DM and ADSL).

Regenerate after an intended change of the writers, then review the diff::

    PYTHONPATH=src python3 -m tests.standards.golden_package

The SAS transport files are not golden bytes: pyreadstat stamps the time of writing into the
XPORT header; their content is pinned by the round-trip tests instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.standards.package import STUDY, adsl, dm

from cletrial.standards.dataset_json import write_dataset_json
from cletrial.standards.define_xml import DefineStudy, write_define_xml

GOLDEN = Path(__file__).parent / "golden"
WHEN = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
DEFINE_STUDY = DefineStudy(f"ST.{STUDY}", STUDY, "Lenalidomide in refractory cutaneous lupus",
                           f"{STUDY} protocol")  # fmt: skip


def write_package(folder: Path) -> list[Path]:
    """Write define.xml, dm.json and adsl.json of the tiny package into ``folder``."""
    datasets = [dm(), adsl()]
    paths = [write_define_xml(datasets, folder / "define.xml", DEFINE_STUDY, created=WHEN)]
    for dataset in datasets:
        paths.append(write_dataset_json(
            dataset, folder / f"{dataset.name.lower()}.json", study_oid=DEFINE_STUDY.oid,
            metadata_version_oid=f"MDV.{DEFINE_STUDY.oid}", created=WHEN,
        ))  # fmt: skip
    return paths


if __name__ == "__main__":
    for path in write_package(GOLDEN):
        print(path)
