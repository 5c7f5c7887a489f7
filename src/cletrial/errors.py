"""The one exception tree of cletrial.

Every error the project raises on purpose subclasses :class:`CletrialError`, so a caller can
catch one class. Only the command line and the web layer turn these into exit codes or HTTP
responses; the core raises them and never prints.

::

    CletrialError
     ├── InputError                 bad input: names the field path, the value and what is allowed
     │    ├── FormError             a CLASI or SLEDAI-2K form
     │    ├── ScreeningError        a screening record (eligibility)
     │    ├── HistoryError          a patient history given to the protocol engine
     │    ├── ImportFileError       a row of an import file (names file, row and column)
     │    ├── DesignError           a trial design file or design input (names field and value)
     │    └── SimulationError       a simulation setting (trials, seed, workers, sizes, bounds)
     ├── ProtocolDefinitionError    a protocol definition file that does not validate
     │    └── UnknownProtocolError  no protocol with that id or path
     ├── StandardsError             a dataset that breaks a CDISC or SAS transport rule
     ├── StoreError                 the study database
     │    ├── ConflictError         a write based on a stale record version
     │    ├── NotFoundError         no such record
     │    ├── ReasonRequiredError   a change to a saved record without a reason
     │    ├── LockedRecordError     a change to a signed (locked) record
     │    └── AuditChainError       the audit trail does not verify
     └── AccessDeniedError          a user asked for something their role or site does not allow

>>> err = FormError("regions.arms.scale", 3, "must be 0, 1 or 2")
>>> str(err)
'regions.arms.scale = 3: must be 0, 1 or 2'
>>> isinstance(err, CletrialError)
True
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "AccessDeniedError",
    "AuditChainError",
    "CletrialError",
    "ConfirmationRequiredError",
    "ConflictError",
    "DesignError",
    "FormError",
    "HistoryError",
    "ImportFileError",
    "InputError",
    "LockedRecordError",
    "NotFoundError",
    "ProtocolDefinitionError",
    "ReasonRequiredError",
    "ScreeningError",
    "SimulationError",
    "StandardsError",
    "StoreError",
    "UnknownProtocolError",
]


class CletrialError(Exception):
    """Base of every error cletrial raises on purpose."""


def _show(value: Any) -> str:
    """Render a bad value the way it appeared in JSON input."""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


class InputError(CletrialError, ValueError):
    """Bad input: which field, which value, and what would have been accepted.

    Parameters
    ----------
    field : str
        Dotted path of the field, e.g. ``regions.arms.scale`` (empty for the whole document).
    value : Any
        The value that was given (shown as JSON).
    problem : str
        What is wrong, phrased as what is allowed, e.g. ``must be 0, 1 or 2``.
    line : int, optional
        1-based line number in a JSON Lines batch.
    """

    def __init__(self, field: str, value: Any, problem: str, *, line: int | None = None) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        if self.field:
            return f"{where}{self.field} = {_show(self.value)}: {self.problem}"
        if self.value is not None:
            return f"{where}{_show(self.value)}: {self.problem}"
        return f"{where}{self.problem}"

    def at_line(self, line: int) -> InputError:
        """Return a copy of this error located at ``line`` of a batch."""
        return type(self)(self.field, self.value, self.problem, line=line)

    def __str__(self) -> str:
        return self.message


class ConfirmationRequiredError(InputError):
    """A value that is possible but improbable: stored only once the person entering it
    confirms it (for a lab result, ``confirmed`` / ``value_confirmed``)."""


class FormError(InputError):
    """A CLASI or SLEDAI-2K form that does not validate."""


class ScreeningError(InputError):
    """A screening record that does not validate."""


class HistoryError(InputError):
    """A patient history that does not validate (order of dates, doses off the ladder, ...)."""


class ImportFileError(InputError):
    """A row of an import file that does not validate; names the file, row and column."""

    def __init__(self, file: str, row: int, column: str, value: Any, problem: str) -> None:
        self.file = file
        self.row = row
        self.column = column
        super().__init__(column, value, problem)

    @property
    def message(self) -> str:
        where = f"{self.file}, row {self.row}, column {self.column}"
        return f"{where} = {_show(self.value)}: {self.problem}"

    def at_line(self, line: int) -> InputError:
        return ImportFileError(self.file, line, self.column, self.value, self.problem)


class DesignError(InputError):
    """A trial design (a design file or a design input such as a rate or a look) that does not
    validate; names the file when there is one, the field and the value.

    >>> str(DesignError("alpha", 0.7, "must be between 0 and 0.5 (one-sided)", origin="x.yaml"))
    'x.yaml: alpha = 0.7: must be between 0 and 0.5 (one-sided)'
    """

    def __init__(
        self,
        field: str,
        value: Any,
        problem: str,
        *,
        line: int | None = None,
        origin: str | None = None,
    ) -> None:
        self.origin = origin
        super().__init__(field, value, problem, line=line)

    @property
    def message(self) -> str:
        base = super().message
        return f"{self.origin}: {base}" if self.origin else base


class SimulationError(InputError):
    """A simulation setting (number of trials, seed, workers, a size or a bound) out of range;
    names the setting and the value.

    >>> str(SimulationError("trials", 0, "must be at least 1"))
    'trials = 0: must be at least 1'
    """


class ProtocolDefinitionError(CletrialError, ValueError):
    """A protocol definition file that does not validate against its schema."""


class UnknownProtocolError(ProtocolDefinitionError, LookupError):
    """No bundled protocol has that id and no file has that path."""


class StandardsError(CletrialError, ValueError):
    """A dataset or file that breaks a CDISC or SAS transport rule (a name over 8 characters, a
    label over 40, a value over 200 bytes, a variable not in its specification, ...); names the
    dataset, the variable and the value."""


class StoreError(CletrialError):
    """A problem with the study database."""


class ConflictError(StoreError):
    """A write based on a stale version of a record; names the record and both versions."""

    def __init__(
        self,
        table: str,
        record_id: object,
        expected: int,
        actual: int,
        changed: dict[str, Any] | None = None,
    ) -> None:
        self.table = table
        self.record_id = record_id
        self.expected = expected
        self.actual = actual
        self.changed = changed or {}
        super().__init__(
            f"{table} {record_id} was changed by someone else: you edited version {expected}, "
            f"the stored version is {actual}; reload the record and apply your change again"
        )


class NotFoundError(StoreError, LookupError):
    """No such record."""


class ReasonRequiredError(StoreError):
    """A change to an already saved record was made without a reason for change."""


class LockedRecordError(StoreError):
    """A change to a signed, locked record; it must be unlocked with a reason first."""


class AuditChainError(StoreError):
    """The audit trail does not verify: a row was altered, deleted or inserted."""


class AccessDeniedError(CletrialError, PermissionError):
    """The user's role or site does not allow this."""
