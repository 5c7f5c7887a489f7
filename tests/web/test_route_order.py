"""The order of the routers: the visit routes are tried first (the most frequent requests), which
is safe only while no other route answers the same URL and method."""

from __future__ import annotations

import re

from cletrial.web.routes import ROUTERS, visits_api


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def _samples(path: str) -> list[str]:
    """Concrete URLs of a path template (parameters as a number and as a word)."""
    return [re.sub(r"\{[^}]+\}", value, path) for value in ("1", "new", "counts")]


def test_the_visit_routes_come_first_and_no_other_route_answers_their_urls() -> None:
    assert ROUTERS[0] is visits_api.router
    others = [route for router in ROUTERS[1:] for route in router.routes]
    for visit_route in visits_api.router.routes:
        methods = set(getattr(visit_route, "methods", ()) or ())
        for other in others:
            if not methods & set(getattr(other, "methods", ()) or ()):
                continue
            path, other_path = visit_route.path, other.path  # type: ignore[attr-defined]
            clash = [url for url in _samples(path) if _pattern(other_path).match(url)]
            clash += [url for url in _samples(other_path) if _pattern(path).match(url)]
            assert not clash, f"{path} and {other_path} both answer {clash[0]}"


def test_the_check_finds_a_clash() -> None:
    """The check above can fail: a generic template clashes with a visit route."""
    url = _samples("/api/patients/{patient_id}/visits")[0]
    assert _pattern("/api/patients/{patient_id}/{form}").match(url)
