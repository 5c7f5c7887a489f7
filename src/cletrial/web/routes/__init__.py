"""Route modules, one a resource; :data:`ROUTERS` lists them in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from cletrial.web.routes import (
    admin,
    auth,
    data_management_pages,
    enrolment_api,
    enrolment_pages,
    events_api,
    events_pages,
    monitoring_api,
    monitoring_pages,
    password,
    patients_api,
    patients_pages,
    randomisation_api,
    randomisation_pages,
    reports,
    scoring,
    submission,
    visits_api,
    visits_pages,
    worklists_api,
)

__all__ = ["ROUTERS"]

#: Starlette tries the routes in this order: the visit routes come first, as a visit save is the
#: most frequent request (no path of the routers before them matches theirs; a test pins it).
ROUTERS: tuple[APIRouter, ...] = (
    visits_api.router,
    auth.api,
    auth.pages,
    password.api,
    password.pages,
    scoring.router,
    patients_api.router,
    enrolment_api.router,
    randomisation_api.router,
    events_api.router,
    monitoring_api.router,
    worklists_api.router,
    admin.api,
    reports.api,
    submission.router,
    patients_pages.router,
    visits_pages.router,
    events_pages.router,
    enrolment_pages.router,
    randomisation_pages.router,
    monitoring_pages.router,
    data_management_pages.router,
    admin.pages,
    reports.pages,
)
