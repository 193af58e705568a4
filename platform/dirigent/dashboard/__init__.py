"""The web dashboard (``dirigent dashboard``): sagas, timelines, dead letters, actions.

Server-rendered pages (Jinja2, plain HTML forms) and a JSON API under ``/api`` (OpenAPI
at ``/api/openapi.json``), both reading and acting through ``dirigent.ops``, like the
CLI. See docs/dashboard.md.
"""

from dirigent.dashboard.app import create_app
from dirigent.dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings", "create_app"]
