"""What the monitoring pages and API share: the protocol's source data verification plan.

>>> from cletrial.protocol import load_protocol
>>> plan = plan_of(load_protocol())
>>> sorted(plan.full)[:2], plan.sample
(['adverse_events', 'clasi_assessments'], 0.25)
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from cletrial.protocol import ProtocolDefinition
from cletrial.store.repositories.verification import SdvPlan

__all__ = ["plan_of", "sdv_plan"]


def plan_of(protocol: ProtocolDefinition) -> SdvPlan:
    """The store's verification plan from the protocol file's ``source_data_verification``."""
    declared = protocol.file.source_data_verification
    return SdvPlan(full=frozenset(declared.full), sample=declared.sample)


def sdv_plan(request: Request) -> SdvPlan:
    """The verification plan of the application's protocol."""
    protocol: Any = request.app.state.protocol.get()
    return plan_of(protocol)
