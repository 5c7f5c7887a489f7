"""A study's submission package: SDTM datasets built from the study, de-identified when asked,
checked, and written as SAS transport, Dataset-JSON and Define-XML with a manifest.

Layout of the package directory::

    manifest.json          every file: path, dataset, rows, bytes, SHA-256; what the package is
    conformance.json       the conformance report (cletrial.standards.conformance)
    sdtm/define.xml        Define-XML 2.1 of the SDTM datasets
    sdtm/<name>.xpt        SAS transport v5, one file per dataset (lower-case name)
    sdtm/<name>.json       Dataset-JSON 1.1, the same dataset

The conformance report is written whatever it finds (the study database stores no country
of a site, so DM.COUNTRY, required by SDTMIG, is reported missing). Extra files (the ODM
export of the database, which the store writes) are passed in by the caller. The ADaM
datasets, RS and the trial design domains are not in the package yet (issue 13 in progress).

>>> import datetime as dt, pathlib, tempfile
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import StudySource, SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), sex="F", age=40,
...                   history={"doses": [{"date": "2009-03-02", "regimen": "5_daily"}]})
>>> p = load_protocol().file
>>> sub = build_submission(StudySource("S", "Title", p.id, p.version, p, subjects=(s,)))
>>> sub.datasets["DM"].frame["USUBJID"].tolist()
['S-A-P1']
>>> sub.report.passed, [f"{f.rule} {f.dataset}.{f.variable}" for f in sub.report.findings]
(False, ['SD05 DM.COUNTRY'])
>>> out = pathlib.Path(tempfile.mkdtemp()) / "pkg"
>>> manifest = write_submission(sub, out, created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
>>> [f["path"] for f in manifest["files"] if f["dataset"] == "DM"]
['sdtm/dm.json', 'sdtm/dm.xpt']
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cletrial.standards.conformance import ConformanceReport, check_conformance
from cletrial.standards.dataset_json import write_dataset_json
from cletrial.standards.define_xml import DefineStudy, write_define_xml
from cletrial.standards.deidentify import deidentify_datasets
from cletrial.standards.metadata import Dataset
from cletrial.standards.package import PackageFile, write_package
from cletrial.standards.sdtm.build import build_sdtm
from cletrial.standards.sdtm.scores import build_qs
from cletrial.standards.sdtm.source import StudySource
from cletrial.standards.xpt import write_xpt
from cletrial.vocabulary import VOCABULARY_VERSION

__all__ = ["Submission", "build_submission", "write_submission"]


@dataclass(frozen=True)
class Submission:
    """The datasets of a package, its conformance report, and what it is.

    The datasets have been checked (:meth:`Dataset.check`) by :func:`build_submission`, and
    :func:`write_submission` does not check them again: build a Submission only with it.
    """

    study: DefineStudy
    datasets: dict[str, Dataset]
    report: ConformanceReport
    deidentified: bool


def build_submission(
    source: StudySource, *, deidentify: bool = False, key: bytes | None = None
) -> Submission:
    """Build, optionally de-identify, and check the study's datasets.

    Parameters
    ----------
    source : StudySource
        The study as the store loaded it (``cletrial.store.submission_source``).
    deidentify : bool
        New subject codes, dates shifted per patient, ages capped, identifying text blanked
        (:mod:`cletrial.standards.deidentify`).
    key : bytes, optional
        De-identification key (random when omitted; never written).
    """
    datasets = dict(build_sdtm(source).datasets)
    datasets["QS"] = build_qs((s.ref, s.history) for s in source.subjects)[0]
    if deidentify:
        datasets = {n: d.check() for n, d in deidentify_datasets(datasets, key=key).items()}
    study = DefineStudy(
        oid=f"ST.{source.study_code}",
        name=source.study_code,
        description=source.title,
        protocol=f"{source.protocol_id} {source.protocol_version}",
    )
    return Submission(study, datasets, check_conformance(datasets), deidentify)


def _dataset_files(sub: Submission, created: dt.datetime) -> list[PackageFile]:
    files = []
    mdv = f"MDV.{sub.study.name}.SDTM"
    for name, ds in sorted(sub.datasets.items()):
        stem = f"sdtm/{name.lower()}"
        rows = len(ds.frame)
        to_xpt = partial(write_xpt, ds, checked=True)
        to_json = partial(_write_json, ds, study_oid=sub.study.oid, mdv=mdv, created=created)
        files.append(PackageFile(f"{stem}.xpt", to_xpt, name, rows))
        files.append(PackageFile(f"{stem}.json", to_json, name, rows))
    return files


def _write_json(ds: Dataset, path: Path, *, study_oid: str, mdv: str, created: dt.datetime) -> Any:
    return write_dataset_json(
        ds, path, study_oid=study_oid, metadata_version_oid=mdv, created=created, checked=True
    )


def write_submission(
    sub: Submission,
    out: Path,
    *,
    created: dt.datetime,
    extra: Sequence[PackageFile] = (),
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the package directory ``out`` (all or nothing) and return its manifest.

    Parameters
    ----------
    sub : Submission
        From :func:`build_submission`.
    out : Path
        The package directory; an existing one is refused unless ``overwrite``.
    created : datetime.datetime
        Creation time recorded in Define-XML and Dataset-JSON (timezone-aware).
    extra : sequence of PackageFile
        More files (the ODM export).
    progress : callable, optional
        Called with each file's path as it is written (a progress bar).
    """
    files = _dataset_files(sub, created)
    files.append(PackageFile("sdtm/define.xml", lambda p: write_define_xml(
        list(sub.datasets.values()), p, sub.study, created=created, checked=True)))  # fmt: skip
    report = json.dumps(sub.report.as_dict(), indent=2, ensure_ascii=False) + "\n"
    files.append(PackageFile("conformance.json", lambda p: p.write_text(report, "utf-8")))
    files.extend(extra)
    if progress is not None:
        files = [_reporting(f, progress) for f in files]
    about = {
        "study": sub.study.name,
        "protocol": sub.study.protocol,
        "standards": {"SDTM": "SDTMIG 3.4", "Define-XML": "2.1", "Dataset-JSON": "1.1"},
        "vocabulary_version": VOCABULARY_VERSION,
        "deidentified": sub.deidentified,
        "conformance_passed": sub.report.passed,
        "created": created.isoformat(),
        "adam": "not included yet",
    }
    return write_package(out, files, about=about, overwrite=overwrite)


def _reporting(f: PackageFile, progress: Callable[[str], None]) -> PackageFile:
    def write(path: Path) -> Any:
        result = f.write(path)
        progress(f.path)
        return result

    return PackageFile(f.path, write, f.dataset, f.rows)
