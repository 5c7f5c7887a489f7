"""The arms and blinding of a randomised protocol definition: the model and its checks.

A single-arm protocol (the 2012 trial) has no ``arms``. A randomised one lists two or more
arms; each arm says whether it dispenses the active drug or a matching placebo
(``active``) and whether the protocol's taper applies to it (``taper``: a randomised-withdrawal
arm that *continues* keeps the dose it had when randomised). ``blinding`` says whether the
trial is masked and what a blinded role is shown instead of the product (``blinded_product``,
for example "study drug (lenalidomide or matching placebo)"); the allocation list's arms must
be the arm ids (checked when a list is imported for a study running this protocol).

>>> arm = msgspec.convert({"id": "PBO", "name": "Placebo", "active": False}, Arm)
>>> arm.taper, arm.active
(True, False)
>>> msgspec.convert({"id": "pbo", "name": "Placebo"}, Arm)
Traceback (most recent call last):
...
msgspec.ValidationError: Expected `str` matching regex '^[A-Z][A-Z0-9]*$' - at `$.id`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from cletrial.errors import ProtocolDefinitionError

if TYPE_CHECKING:
    from cletrial.protocol.definition_model import ProtocolFile

__all__ = ["Arm", "Blinding", "check_arms"]

#: An arm id as SDTM's ARMCD takes it: capital letters and digits, at most 20.
ArmId = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]*$", max_length=20)]
_Text = Annotated[str, Meta(min_length=1, max_length=200)]


class Arm(Struct, forbid_unknown_fields=True, frozen=True):
    """One arm of a randomised protocol.

    ``active``: the arm dispenses the drug (``False``: a matching placebo at every step of the
    ladder). ``taper``: the protocol's taper applies (``False``: the arm continues the dose it
    had when randomised, the *continue* arm of a randomised withdrawal; safety holds still
    apply).
    """

    id: ArmId
    name: _Text
    active: bool = True
    taper: bool = True
    description: str = ""


class Blinding(Struct, forbid_unknown_fields=True, frozen=True):
    """How the trial is masked. ``masked`` roles see ``blinded_product`` and the treatment
    code, never the arm nor which product a dose is."""

    masked: Literal["open", "single", "double"]
    blinded_product: _Text = "study drug"
    design: Literal["parallel", "randomised_withdrawal"] = "parallel"


def _fail(origin: str, path: str, value: object, problem: str) -> ProtocolDefinitionError:
    shown = msgspec.json.encode(value).decode()
    return ProtocolDefinitionError(f"{origin}: {path} = {shown}: {problem}")


def check_arms(file: ProtocolFile, origin: str) -> None:
    """Check the arms and blinding of ``file`` against each other.

    Raises
    ------
    ProtocolDefinitionError
        A single arm, an arm id twice, blinding without arms (or arms without blinding), a
        placebo arm in an open trial, a randomised withdrawal without a continue arm (one with
        ``taper: false``), or a parallel trial without an active arm; naming field and value.
    """
    arms, blinding = file.arms, file.blinding
    if not arms:
        if blinding is not None:
            raise _fail(origin, "blinding", blinding.masked, "needs arms: the protocol has none")
        return
    if len(arms) < 2:
        raise _fail(origin, "arms", [a.id for a in arms], "a randomised protocol needs 2 arms")
    if blinding is None:
        raise _fail(origin, "arms", [a.id for a in arms], "needs a blinding section")
    seen: set[str] = set()
    for i, arm in enumerate(arms):
        if arm.id in seen:
            raise _fail(origin, f"arms[{i}].id", arm.id, "is the id of an earlier arm")
        seen.add(arm.id)
        if not arm.active and blinding.masked == "open":
            raise _fail(origin, f"arms[{i}].active", False, "a placebo arm needs a masked trial")
    if not any(a.active for a in arms):
        raise _fail(origin, "arms", [a.id for a in arms], "needs an arm with the active drug")
    if blinding.design == "randomised_withdrawal" and all(a.taper for a in arms):
        raise _fail(
            origin, "blinding.design", blinding.design, "needs an arm that continues (taper: false)"
        )
    _check_trial_agrees(file, origin)


#: ``blinding.masked`` -> the trial section's ``blinding`` (TS TBLIND).
_TBLIND = {"open": "open_label", "single": "single_blind", "double": "double_blind"}


def _check_trial_agrees(file: ProtocolFile, origin: str) -> None:
    """The ``trial`` section (SDTM TA, TS) must say what ``arms`` and ``blinding`` say."""
    trial, blinding = file.trial, file.blinding
    if trial is None or blinding is None:
        return
    ids, codes = [a.id for a in file.arms], [a.code for a in trial.arms]
    if codes != ids:
        raise _fail(origin, "trial.arms", codes, f"must be the arms, in order: {', '.join(ids)}")
    if not trial.randomised:
        raise _fail(origin, "trial.randomised", False, "must be true: the protocol has arms")
    if trial.blinding != _TBLIND[blinding.masked]:
        raise _fail(origin, "trial.blinding", trial.blinding,
                    f"must be {_TBLIND[blinding.masked]}, as blinding.masked says")  # fmt: skip
