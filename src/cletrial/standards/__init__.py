"""CDISC standards output: SDTM and ADaM datasets and the files that carry them.

:mod:`cletrial.standards.metadata` is the shared shape (a frame plus its Define-XML metadata) of
every dataset; the builders and writers live beside it.
"""

from cletrial.standards.metadata import Dataset, DatasetSpec, Variable

__all__ = ["Dataset", "DatasetSpec", "Variable"]
