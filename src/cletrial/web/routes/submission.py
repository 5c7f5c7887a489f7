"""The submission package as a download, for the statistician's page.

* ``GET /api/exports/submission.zip`` (``study`` when the user's sites take part in several;
  ``deidentify=true`` for a de-identified package): the package that ``cletrial submission``
  writes — SDTM and ADaM as SAS transport and Dataset-JSON, a Define-XML for each, the
  manifest (file, rows, SHA-256) and the conformance report — zipped. Exporters only
  (statisticians, data managers, administrators), and only for a user who has access to
  **every** site of the study: the package covers the whole study, so a user of some sites
  gets a 403 naming the sites they lack. The headers say the database's state (open, frozen,
  locked) at the export and whether the conformance rules passed. The download is blinded:
  a randomised study's package (DM carries each subject's arm) is refused here (403) and
  written by the unblinded statistician with ``cletrial submission --unblinded``.

The package is built in a temporary directory removed after the answer; a failure answers an
error and leaves nothing behind. Building takes about 8 s for 1,000 patients
(``benchmarks/bench_submission.py``); it runs in the server's thread pool.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from cletrial.errors import AccessDeniedError, InputError
from cletrial.web.deps import Exporter, SessionDep
from cletrial.web.routes._common import errors
from cletrial.web.routes.reports import lock_headers

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["report and exports"])


def _study_code(uow: Any, site_ids: frozenset[int], study: str | None) -> str:
    """The study to package: named, or the only one of the user's sites; the user must have
    access to every site of it."""
    sites = uow.sites.list()
    studies = {s.id: s.code for s in uow.studies.list()}
    mine = sorted({studies[s.study_id] for s in sites if s.id in site_ids})
    if study is None:
        if len(mine) != 1:
            raise InputError("study", None, f"name one of your studies: {', '.join(mine)}")
        study = mine[0]
    if study not in mine:
        raise InputError("study", study, f"is not a study of your sites: {', '.join(mine)}")
    lacking = sorted(s.code for s in sites if studies[s.study_id] == study and s.id not in site_ids)
    if lacking:
        raise AccessDeniedError(
            f"the package covers every site of study {study}; you have no access to site(s) "
            f"{', '.join(lacking)}"
        )
    return study


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())


@router.get(
    "/exports/submission.zip",
    summary="The submission package (SDTM, ADaM, Define-XML, manifest, conformance), zipped",
    responses={200: {"content": {"application/zip": {}}}, **errors()},
)
def export_submission(
    request: Request,
    user: Exporter,
    uow: SessionDep,
    study: str | None = None,
    deidentify: bool = False,
) -> Response:
    """Build the study's submission package and answer it as a zip file."""
    from cletrial.standards.sdtm.dm import planned_arm
    from cletrial.standards.submission import build_submission, write_submission
    from cletrial.store.submission_source import load_study_source

    code = _study_code(uow, user.site_ids, study)
    synthetic = bool(request.app.state.settings.synthetic_data)
    source = load_study_source(uow, code, synthetic=synthetic)
    if planned_arm(source.protocol) is None and any(s.randomised for s in source.subjects):
        raise AccessDeniedError(
            f"study {code} is randomised and its arms are sealed: the web download is blinded; "
            "the unblinded statistician writes the package with `cletrial submission "
            "--unblinded` (e-signed)"
        )
    headers = lock_headers(uow)
    sub = build_submission(source, deidentify=deidentify)
    work = Path(tempfile.mkdtemp(prefix="cletrial-submission-"))
    try:
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        write_submission(sub, work / "package", created=created)
        name = f"{code}-submission{'-deidentified' if deidentify else ''}.zip"
        _zip(work / "package", work / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    headers["X-Conformance-Passed"] = "true" if sub.report.passed else "false"
    return FileResponse(
        work / name,
        media_type="application/zip",
        filename=name,
        headers=headers,
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
