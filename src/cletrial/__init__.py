"""cletrial: run and analyse trials of lenalidomide in refractory cutaneous lupus erythematosus.

Decision support: the software recommends and explains; a clinician decides.

The core packages (:mod:`cletrial.instruments`, :mod:`cletrial.protocol`,
:mod:`cletrial.endpoints`, :mod:`cletrial.analysis`) are pure: they never import storage or web.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
