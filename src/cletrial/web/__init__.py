"""The web application for trial sites (FastAPI, server-rendered pages and a REST API).

>>> from cletrial.web import WebSettings, create_app
>>> create_app(WebSettings(database_url="sqlite://")).openapi_url
'/api/openapi.json'
"""

from __future__ import annotations

from cletrial.web.app import create_app
from cletrial.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
