"""The arms of a randomised protocol: what each arm dispenses for a recommendation, and the
masking every blinded role sees instead.

The engine's recommendation is computed from the patient's data alone, never from the arm, so
it is the same in every arm; a masked protocol names its regimens as dose levels of the blinded
study drug (:func:`compute_blinding`). What the patient's kit holds is the arm's business
(:func:`compute_dispensed`, for the pharmacy or an unblinded statistician):

* an ``active`` arm dispenses the drug at the recommended step; a placebo arm a matching
  placebo on the same schedule (0 mg of drug);
* an arm with ``taper: false`` (the *continue* arm of a randomised withdrawal) keeps the step it
  had when randomised wherever the recommendation is a lower dose (a taper step, down to
  ``off``); it follows the recommendation where that is a higher dose (a restart after
  relapse) and where the action is ``stop``, ``hold`` or ``do_not_start`` (safety, the gate).

No dispensed dose exceeds the protocol's maximum: a dispensed regimen is always a step of the
protocol's own ladder, checked by :func:`assert_dose_within_maximum`.

>>> from cletrial.protocol.definition import load_protocol
>>> placebo = load_protocol("lenalidomide-vs-placebo-cle")
>>> compute_blinding(placebo).product
'study drug (lenalidomide or matching placebo)'
>>> d = compute_dispensed(placebo, "PBO", "5_daily")
>>> d.regimen.id, d.drug_mg, d.product
('5_daily', 0.0, 'placebo matching lenalidomide')
>>> compute_blinding(load_protocol()) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

from cletrial.errors import InputError
from cletrial.protocol.blinding import compute_blinding
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_arms import Arm
from cletrial.protocol.definition_model import Regimen
from cletrial.protocol.engine import assert_dose_within_maximum

__all__ = ["Dispensed", "arm_of", "compute_blinding", "compute_dispensed"]

#: Actions every arm follows whatever it is (safety and the enrolment gate).
_FOLLOWED_BY_EVERY_ARM = frozenset({"stop", "hold", "do_not_start"})


@dataclass(frozen=True, slots=True)
class Dispensed:
    """What one arm's kit holds for a recommendation: the step, the product, mg of drug."""

    arm: str
    regimen: Regimen
    product: str
    drug_mg: float


def arm_of(protocol: ProtocolDefinition, arm_id: str) -> Arm:
    """The arm ``arm_id`` of ``protocol`` (an InputError naming the arms if there is none)."""
    for arm in protocol.file.arms:
        if arm.id == arm_id:
            return arm
    known = ", ".join(a.id for a in protocol.file.arms) or "none: the protocol is single-arm"
    raise InputError("arm", arm_id, f"is not an arm of {protocol.id} (arms: {known})")


def _step(protocol: ProtocolDefinition, regimen_id: str, field: str) -> int:
    try:
        return protocol.regimen_index[regimen_id]
    except KeyError:
        raise InputError(field, regimen_id, "is not a regimen of the protocol's ladder") from None


def compute_dispensed(
    protocol: ProtocolDefinition,
    arm_id: str,
    recommended: str,
    *,
    action: str = "continue",
    at_randomisation: str | None = None,
) -> Dispensed:
    """What the kit of arm ``arm_id`` holds when the engine recommends ``recommended``.

    Parameters
    ----------
    protocol : ProtocolDefinition
        A randomised protocol (with ``arms``).
    arm_id : str
        The arm (an id of ``protocol.file.arms``).
    recommended : str
        The regimen id the engine recommends (the same in every arm).
    action : str
        The engine's action (``Recommendation.action``): ``stop``, ``hold`` and
        ``do_not_start`` are followed by every arm.
    at_randomisation : str, optional
        The regimen the patient had when randomised; needed for an arm that does not taper.

    Raises
    ------
    InputError
        An unknown arm or regimen, or a continuing arm without ``at_randomisation``.
    """
    arm = arm_of(protocol, arm_id)
    step = _step(protocol, recommended, "recommended")
    if not arm.taper:
        if at_randomisation is None:
            raise InputError(
                "at_randomisation", None, f"arm {arm.id} continues the dose it had when "
                "randomised: give that regimen"
            )  # fmt: skip
        kept = _step(protocol, at_randomisation, "at_randomisation")
        if action not in _FOLLOWED_BY_EVERY_ARM and step > kept:  # lower: keep the dose
            step = kept
    assert_dose_within_maximum(protocol, step)
    regimen = protocol.regimens[step]
    drug = protocol.file.drug
    product = drug if arm.active else f"placebo matching {drug}"
    return Dispensed(arm.id, regimen, product, regimen.dose_mg if arm.active else 0.0)
