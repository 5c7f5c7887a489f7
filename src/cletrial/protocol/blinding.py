"""The masking of a randomised protocol's recommendations (see :mod:`cletrial.protocol.arms`).

>>> from cletrial.protocol.definition import load_protocol
>>> compute_blinding(load_protocol()) is None
True
>>> compute_blinding(load_protocol("lenalidomide-withdrawal-cle")).design
'randomised_withdrawal'
"""

from __future__ import annotations

from typing import Final

from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.results import BlindingOut

__all__ = ["compute_blinding"]

_DESIGN_TEXT: Final = {
    "parallel": "every arm follows the same dose ladder; the placebo kit matches the drug",
    "randomised_withdrawal": (
        "the kit follows the arm: the continue arm keeps the dose it had at randomisation, "
        "the taper arm tapers as the protocol says"
    ),
}


def compute_blinding(protocol: ProtocolDefinition) -> BlindingOut | None:
    """The masking shown with every recommendation of a masked protocol (``None`` if open)."""
    blinding = protocol.file.blinding
    if blinding is None or blinding.masked == "open":
        return None
    product = blinding.blinded_product
    text = (
        f"{blinding.masked}-blind trial: each regimen is a dose level of the {product}; "
        f"{_DESIGN_TEXT[blinding.design]}. The patient's treatment code, not the arm, is shown."
    )
    return BlindingOut(blinding.masked, blinding.design, product, text)
