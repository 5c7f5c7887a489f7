"""Edit checks: rules declared in the protocol definition file that find suspicious or
inconsistent data in one patient's records, so that a monitor can open a query.

The rules are data (``edit_checks`` in the protocol YAML, validated on load, see
docs/edit-checks.md); this module compiles them once per protocol and runs them on plain dicts:
one patient's records keyed by store table name, each row a dict of the table's columns as
stored (dates are ``datetime.date``; every row has ``id``). It is part of the pure core: it
never imports :mod:`cletrial.store` or :mod:`cletrial.web`, prints nothing and writes nothing.

::

    compile_edit_checks(protocol)         -> CompiledChecks   (cached per protocol)
    CompiledChecks.run(forms[, memo])     -> [CheckFinding]   (check order, then row order)
    CompiledChecks.evaluations(forms)     -> int              (check x record evaluations)

Checks run again on the same patient (on every save) may pass a :class:`CheckMemo`: the
one-record kinds then skip the records they have already judged, recognised by identity (the
same dict object, which the caller promises not to have changed in place); the kinds that read
across forms always run in full.

Kinds: ``range``, ``required_if``, ``compare`` (one row at a time), ``sledai_item_needs_lab``,
``visit_window``, ``clasi_damage_below_baseline`` and ``dose_step`` (across a patient's forms).
A missing value never fires a check, except ``required_if``, whose job it is to report it.

>>> import datetime as dt
>>> from cletrial.protocol import load_protocol
>>> checks = compile_edit_checks(load_protocol())
>>> forms = {"adverse_events": [{
...     "id": 41, "term": "Rash maculo-papular", "start_date": dt.date(2024, 1, 10),
...     "end_date": dt.date(2024, 1, 3), "grade": 2, "causality": "possible", "serious": False,
...     "serious_criterion": None, "outcome": "recovered", "note": None, "visit_id": None}]}
>>> for finding in checks.run(forms):
...     print(finding.check_id, finding.table, finding.record_id, finding.field)
...     print(finding.message)
AE-END-BEFORE-START adverse_events 41 end_date
adverse event Rash maculo-papular: the end date 2024-01-03 is before the start date 2024-01-10
>>> checks.evaluations(forms)     # the four checks on adverse_events, one record each
4
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_model import EditCheck
from cletrial.protocol.edit_checks_kinds import Emit, RowCheck, compile_check, compile_row_check
from cletrial.protocol.edit_checks_runtime import CheckFinding, PatientForms, Row

__all__ = ["CheckFinding", "CheckMemo", "CompiledChecks", "compile_edit_checks"]

#: Forms of one patient: store table -> rows (a missing table has no rows).
Forms = Mapping[str, Sequence[Mapping[str, Any]]]


class CheckMemo:
    """What the one-record checks found in each record of one patient at the last run, so that
    the next run judges only the records that are new or were replaced.

    A record is known by identity: the memo keeps a reference to each row dict it judged and
    reuses the findings for that same object (or, when a form's rows begin with the last
    run's, for an equal one: the one-record checks read nothing but the row). Rows must
    therefore never be changed in place (a store hands out a new dict for a changed record).
    The memo holds the records of the last run only; keep one memo per patient and per
    compiled protocol.

    >>> from cletrial.protocol import load_protocol
    >>> checks, memo = compile_edit_checks(load_protocol()), CheckMemo()
    >>> labs = [{"id": 1, "test": "platelets", "std_value": 800.0, "std_unit": "10^9/L"}]
    >>> [f.check_id for f in checks.run({"labs": labs}, memo)], memo.judged
    (['LAB-PLATELETS-QUERY'], 1)
    >>> [f.check_id for f in checks.run({"labs": labs}, memo)], memo.reused
    (['LAB-PLATELETS-QUERY'], 1)
    """

    __slots__ = ("forms", "judged", "reused")

    def __init__(self) -> None:
        #: form -> (the rows of the last run, in order; what the form's one-record checks
        #: found in each)
        self.forms: dict[str, tuple[list[Row], list[tuple[CheckFinding, ...]]]] = {}
        #: Records judged anew and records whose findings were reused, at the last run.
        self.judged = 0
        self.reused = 0


class CompiledChecks:
    """The edit checks of one protocol, compiled once; fast to run many times.

    Parameters
    ----------
    protocol : ProtocolDefinition
        A loaded protocol; its validated ``edit_checks`` declarations are compiled (operators,
        conditions, ladder indices and the visit plan resolved once).

    Attributes
    ----------
    checks : tuple of EditCheck
        The declarations, in file order (the order of the findings).
    protocol_id, protocol_version : str
        Provenance of the declarations.

    >>> from cletrial.protocol import load_protocol
    >>> compiled = CompiledChecks(load_protocol("thalidomide-cle-example"))
    >>> compiled.run({}), compiled.evaluations({})
    ([], 0)
    """

    __slots__ = (
        "_across",
        "_by_form",
        "_emitters",
        "_forms",
        "_index",
        "_off",
        "checks",
        "protocol_id",
        "protocol_version",
    )

    def __init__(self, protocol: ProtocolDefinition) -> None:
        self.checks: tuple[EditCheck, ...] = protocol.edit_checks
        self.protocol_id = protocol.id
        self.protocol_version = protocol.version
        self._emitters: tuple[Emit, ...] = tuple(compile_check(c, protocol) for c in self.checks)
        self._forms: tuple[str, ...] = tuple(c.form for c in self.checks)
        self._off: str = protocol.regimens[protocol.off].id
        by_form: dict[str, list[tuple[int, RowCheck]]] = {}
        across: list[tuple[int, Emit]] = []
        for i, check in enumerate(self.checks):
            at_fault = compile_row_check(check, protocol)
            if at_fault is None:
                across.append((i, self._emitters[i]))
            else:
                by_form.setdefault(check.form, []).append((i, at_fault))
        #: form -> (index, check) of its one-record checks; the checks across forms.
        self._by_form = {form: tuple(checks) for form, checks in by_form.items()}
        self._across = tuple(across)
        self._index = {check.id: i for i, check in enumerate(self.checks)}

    def run(self, forms: Forms, memo: CheckMemo | None = None) -> list[CheckFinding]:
        """Run every check on one patient's forms.

        Parameters
        ----------
        forms : mapping of str to sequence of mapping
            Store table name -> that patient's rows, each a dict of the table's columns as
            stored (``patients`` holds one row). A missing table means no records.
        memo : CheckMemo, optional
            This patient's memo from the previous run (updated here): records already judged
            by the one-record checks are not judged again. The findings are the same with or
            without it.

        Returns
        -------
        list of CheckFinding
            In check order, then row order; empty when nothing is suspicious. Never raises on
            rows with missing (``None``) values or missing tables.

        >>> import datetime as dt
        >>> from cletrial.protocol import load_protocol
        >>> compiled = compile_edit_checks(load_protocol())
        >>> tests = [{"id": 3, "test_date": dt.date(2024, 1, 2), "result": "negative",
        ...           "method": None}]
        >>> [(f.check_id, f.field) for f in compiled.run({"pregnancy_tests": tests})]
        [('PREG-METHOD-REQUIRED', 'method')]
        >>> compiled.run({"pregnancy_tests": [{**tests[0], "method": "serum"}]})
        []
        """
        if memo is None:
            patient = PatientForms(forms, self._off)
            findings: list[CheckFinding] = []
            for emit in self._emitters:
                emit(patient, findings)
            return findings
        return self._run_with_memo(forms, memo)

    def _run_with_memo(self, forms: Forms, memo: CheckMemo) -> list[CheckFinding]:
        by_check: list[list[CheckFinding]] = [[] for _ in self.checks]
        judged = reused = 0
        kept: dict[str, tuple[list[Row], list[tuple[CheckFinding, ...]]]] = {}
        for form, checks in self._by_form.items():
            rows = list(forms.get(form) or ())
            found, start, known = _reuse(rows, memo.forms.get(form))
            reused += start
            for row in rows[start:]:
                hit = known.get(id(row))
                if hit is not None and hit[0] is row:
                    found.append(hit[1])
                    reused += 1
                else:
                    found.append(tuple(f for _i, judge in checks if (f := judge(row)) is not None))
                    judged += 1
            for in_row in found:
                for finding in in_row:  # usually none
                    by_check[self._index[finding.check_id]].append(finding)
            kept[form] = (rows, found)
        patient = PatientForms(forms, self._off)
        for i, emit in self._across:
            emit(patient, by_check[i])
        memo.forms, memo.judged, memo.reused = kept, judged, reused
        return [finding for found in by_check for finding in found]

    def evaluations(self, forms: Forms) -> int:
        """How many (check, record) evaluations :meth:`run` does for these forms: for each check,
        the number of rows of its form (the unit of the "form checks per second" figure).

        >>> from cletrial.protocol import load_protocol
        >>> compiled = compile_edit_checks(load_protocol())
        >>> compiled.evaluations({"labs": [{"id": 1}, {"id": 2}], "doses": [{"id": 3}]})
        7
        """
        return sum(len(forms.get(form) or ()) for form in self._forms)

    def __repr__(self) -> str:
        return (
            f"CompiledChecks({self.protocol_id} {self.protocol_version}: {len(self.checks)} checks)"
        )


def _reuse(
    rows: list[Row], before: tuple[list[Row], list[tuple[CheckFinding, ...]]] | None
) -> tuple[list[tuple[CheckFinding, ...]], int, dict[int, tuple[Row, tuple[CheckFinding, ...]]]]:
    """What the last run found that still holds for ``rows``: when they begin with the last
    run's rows (records added at the end, the usual save), the findings of that prefix and its
    length, compared at C speed (a list comparison tries identity first; an equal row has the
    same findings, the one-record checks reading nothing else); otherwise nothing reused by
    position, and the last run's rows by identity."""
    if before is None:
        return [], 0, {}
    old_rows, old_found = before
    size = len(old_rows)
    if size and rows[:size] == old_rows:
        return old_found[:], size, {}
    return [], 0, {id(row): (row, found) for row, found in zip(old_rows, old_found, strict=True)}


#: id(protocol) -> its compiled checks; an entry is dropped when its protocol is collected.
_COMPILED: Final[dict[int, CompiledChecks]] = {}


def compile_edit_checks(protocol: ProtocolDefinition) -> CompiledChecks:
    """Return the compiled edit checks of ``protocol`` (compiled on first use, then cached for
    as long as the protocol object lives).

    Parameters
    ----------
    protocol : ProtocolDefinition
        From :func:`~cletrial.protocol.load_protocol` or
        :func:`~cletrial.protocol.parse_protocol`.

    >>> from cletrial.protocol import load_protocol
    >>> protocol = load_protocol()
    >>> compile_edit_checks(protocol) is compile_edit_checks(protocol)
    True
    >>> len(compile_edit_checks(protocol).checks)
    14
    """
    key = id(protocol)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = CompiledChecks(protocol)
        _COMPILED[key] = compiled
        weakref.finalize(protocol, _COMPILED.pop, key, None)
    return compiled
