"""A study's submission package: SDTM and ADaM datasets built from the study, de-identified
when asked, checked, and written as SAS transport, Dataset-JSON and Define-XML with a manifest.

Layout of the package directory::

    manifest.json          every file: path, dataset, rows, bytes, SHA-256; what the package is
    conformance.json       the conformance report (cletrial.standards.conformance)
    sdtm/define.xml        Define-XML 2.1 of the SDTM datasets
    sdtm/<name>.xpt        SAS transport v5, one file per dataset (lower-case name)
    sdtm/<name>.json       Dataset-JSON 1.1, the same dataset
    adam/define.xml        Define-XML 2.1 of the ADaM datasets (ADSL, ADRS, ADTTE, ADAE, ADLB)
    adam/<name>.xpt        as for SDTM; SRCDOM/SRCSEQ name the SDTM record of each value
    adam/<name>.json

The conformance report is written whatever it finds (below, a subject whose site has no
country: DM.COUNTRY, required by SDTMIG, is reported missing). Extra files (the ODM
export of the database, which the store writes) are passed in by the caller. The trial design
datasets (TA, TE, TV, TI, TS) come from the study's protocol definition
(:func:`cletrial.standards.sdtm.build.build_trial_design`) and are listed in the manifest like
every dataset.

>>> import datetime as dt, pathlib, tempfile
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import StudySource, SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), sex="F", age=40,
...                   history={"patient_id": "P1",
...                            "doses": [{"date": "2009-03-02", "regimen": "5_daily"}]})
>>> p = load_protocol().file
>>> sub = build_submission(StudySource("S", "Title", p.id, p.version, p, subjects=(s,)))
>>> sub.datasets["DM"].frame["USUBJID"].tolist()
['S-A-P1']
>>> sub.report.passed, [f"{f.rule} {f.dataset}.{f.variable}" for f in sub.report.findings]
(False, ['SD05 DM.COUNTRY'])
>>> out = pathlib.Path(tempfile.mkdtemp()) / "pkg"
>>> manifest = write_submission(sub, out, created=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
>>> [f["path"] for f in manifest["files"] if f["dataset"] in ("DM", "ADSL")]
['adam/adsl.json', 'adam/adsl.xpt', 'sdtm/dm.json', 'sdtm/dm.xpt']
>>> [(f["path"], f["rows"]) for f in manifest["files"] if f["dataset"] == "TI"]
[('sdtm/ti.json', 15), ('sdtm/ti.xpt', 15)]
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Final

from cletrial.collector import heap_frozen
from cletrial.endpoints.trial import TrialEndpointRules
from cletrial.protocol.history import PatientHistory
from cletrial.standards.adam import build_adam
from cletrial.standards.adam._base import NO_SDTM_RECORD
from cletrial.standards.adam.adqs import SKINDEX_SOURCES
from cletrial.standards.conformance import ConformanceReport, check_conformance
from cletrial.standards.dataset_json import write_dataset_json
from cletrial.standards.define_xml import DefineStudy, write_define_xml
from cletrial.standards.deidentify import deidentify_datasets
from cletrial.standards.metadata import Dataset
from cletrial.standards.package import PackageFile, write_package
from cletrial.standards.sdtm.build import SdtmPackage, build_sdtm
from cletrial.standards.sdtm.common import Provenance
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
    adam: dict[str, Dataset]

    @property
    def file_count(self) -> int:
        """Files :func:`write_submission` writes itself (two per dataset, a define.xml per
        standard, the conformance report; the manifest not counted)."""
        return 2 * (len(self.datasets) + len(self.adam)) + 2 + (1 if self.adam else 0)


def build_submission(
    source: StudySource,
    *,
    deidentify: bool = False,
    key: bytes | None = None,
    trial: TrialEndpointRules | None = None,
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
    trial : TrialEndpointRules, optional
        The trial endpoints' week: ADRS then holds the CLASI-50/70 and CLA-IGA success
        records (:mod:`cletrial.standards.adam.adrs_trial`), traced to QS.
    """
    with heap_frozen():  # the loaded study is not scanned by the collector again and again
        parsed: dict[str, PatientHistory] = {}  # RS's parsed histories, read again by ADaM
        sdtm = replace(build_sdtm(source, parsed), provenance=())  # the lookup: ADaM's sources
        datasets = dict(sdtm.datasets)
        datasets["QS"], qs_provenance = build_qs(((s.ref, s.history) for s in source.subjects),
                                                 sdtm.visits)  # fmt: skip
        adam = _build_adam(source, sdtm, datasets["QS"], qs_provenance, trial, parsed)
        del sdtm, qs_provenance, parsed  # the record lookup is not needed any more
        if deidentify:  # in one call: the same new codes (from DM) and date shifts everywhere
            both = deidentify_datasets({**datasets, **adam}, key=key)
            datasets = {n: both[n].check() for n in datasets}
            adam = {n: both[n].check() for n in adam}
        report = check_conformance({**datasets, **adam})
    study = DefineStudy(
        oid=f"ST.{source.study_code}",
        name=source.study_code,
        description=source.title,
        protocol=f"{source.protocol_id} {source.protocol_version}",
    )
    return Submission(study, datasets, report, deidentify, adam)


#: QSTESTCD -> suffix of the history array whose source it is (see ``_build_adam``).
_SOURCE_CODES: Final = {"CLASIA": "", "CLAIGA": "#CLAIGA", **SKINDEX_SOURCES}


def _build_adam(
    source: StudySource,
    sdtm: SdtmPackage,
    qs: Dataset,
    qs_provenance: list[Provenance],
    trial: TrialEndpointRules | None = None,
    parsed: Mapping[str, PatientHistory] | None = None,
) -> dict[str, Dataset]:
    """ADaM from the same histories (those in ``parsed`` as RS parsed them); a CLASI
    assessment's source is its QS ``CLASIA`` record, a CLA-IGA grade's (array
    ``assessments#CLAIGA``) its QS ``CLAIGA`` record, a Skindex-29+3 domain score's
    (``baseline#SKX29SYM``, ``assessments#SKX29SYM``, ...) its QS record."""
    lookup = sdtm.lookup
    ours: dict[tuple[str, str | None, int | None], tuple[str, int]] = {}  # over SDTM's, no copy
    for where, code in zip(qs_provenance, qs.frame["QSTESTCD"].tolist(), strict=True):
        index = 0 if where.array == "baseline" else where.index  # QS: the baseline has no index
        if code in _SOURCE_CODES and where.array is not None and index is not None:
            ours[(where.usubjid, where.array + _SOURCE_CODES[code], index)] = ("QS", where.seq)
    for subject in source.subjects:  # a change to no treatment (or after the last dose) has no
        for index, _dose in enumerate(subject.history.get("doses") or []):  # EX record
            key = (subject.ref.usubjid, "doses", index)
            if key not in ours and key not in lookup:
                ours[key] = NO_SDTM_RECORD

    def source_of(u: str, a: str, i: int) -> tuple[str, int] | None:
        found = ours.get((u, a, i))
        return lookup.get((u, a, i)) if found is None else found

    done = parsed or {}
    histories: dict[str, PatientHistory | Mapping[str, Any]] = {
        s.ref.usubjid: done.get(s.ref.usubjid, s.history) for s in source.subjects
    }
    return build_adam(sdtm.datasets["DM"], histories, source_of, trial=trial)


def _dataset_files(
    datasets: dict[str, Dataset], folder: str, study: DefineStudy, created: dt.datetime
) -> list[PackageFile]:
    files = []
    mdv = f"MDV.{study.oid}"  # the MetaDataVersion OID of the folder's define.xml
    for name, ds in sorted(datasets.items()):
        stem = f"{folder}/{name.lower()}"
        rows = len(ds.frame)
        to_xpt = partial(write_xpt, ds, checked=True)
        to_json = partial(_write_json, ds, study_oid=study.oid, mdv=mdv, created=created)
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
    files = _dataset_files(sub.datasets, "sdtm", sub.study, created)
    files.append(PackageFile("sdtm/define.xml", lambda p: write_define_xml(
        list(sub.datasets.values()), p, sub.study, created=created, checked=True)))  # fmt: skip
    if sub.adam:
        files += _dataset_files(sub.adam, "adam", sub.study, created)
        files.append(PackageFile("adam/define.xml", lambda p: write_define_xml(
            list(sub.adam.values()), p, sub.study, created=created, checked=True)))  # fmt: skip
    report = json.dumps(sub.report.as_dict(), indent=2, ensure_ascii=False) + "\n"
    files.append(PackageFile("conformance.json", lambda p: p.write_text(report, "utf-8")))
    files.extend(extra)
    if progress is not None:
        files = [_reporting(f, progress) for f in files]
    about = {
        "study": sub.study.name,
        "protocol": sub.study.protocol,
        "standards": {
            "SDTM": "SDTMIG 3.4",
            "ADaM": "ADaMIG 1.3",
            "Define-XML": "2.1",
            "Dataset-JSON": "1.1",
        },
        "vocabulary_version": VOCABULARY_VERSION,
        "deidentified": sub.deidentified,
        "conformance_passed": sub.report.passed,
        "created": created.isoformat(),
    }
    return write_package(out, files, about=about, overwrite=overwrite)


def _reporting(f: PackageFile, progress: Callable[[str], None]) -> PackageFile:
    def write(path: Path) -> Any:
        result = f.write(path)
        progress(f.path)
        return result

    return PackageFile(f.path, write, f.dataset, f.rows)
