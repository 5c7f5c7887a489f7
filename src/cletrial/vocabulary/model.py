"""The shape of a controlled vocabulary: a codelist of terms, each a stored value with its CDISC
submission value.

A :class:`Codelist` is versioned by the vocabulary it belongs to (:data:`VOCABULARY_VERSION` in
:mod:`cletrial.vocabulary`). ``nci_code`` is the NCI Thesaurus code of a CDISC codelist or term
where one exists; it is ``None`` for a sponsor-defined codelist or term (never guessed).

>>> sex = Codelist("SEX", "Sex", (Term("F", "F", "Female"), Term("M", "M", "Male")),
...                nci_code="C66731")
>>> sex.values
('F', 'M')
>>> sex.submission("M"), sex.decode("F")
('M', 'Female')
>>> sex.submission("X")
Traceback (most recent call last):
cletrial.errors.InputError: SEX = "X": must be one of F, M
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cletrial.errors import InputError

__all__ = ["Codelist", "Term"]


@dataclass(frozen=True)
class Term:
    """One term: the value cletrial stores, its CDISC submission value, and its decode.

    Parameters
    ----------
    value : str
        The stored value (forms, history, database).
    submission : str
        The CDISC submission value (what SDTM and ADaM carry).
    decode : str
        Human-readable text (Define-XML ``Decode``, web labels).
    nci_code : str, optional
        NCI Thesaurus code of the term, when CDISC defines one.
    """

    value: str
    submission: str
    decode: str
    nci_code: str | None = None


@dataclass(frozen=True)
class Codelist:
    """A named, ordered list of terms.

    Parameters
    ----------
    id : str
        Codelist id (the CDISC codelist's short name, or a sponsor-defined one).
    name : str
        Human-readable name.
    terms : tuple of Term
        In display order.
    nci_code : str, optional
        NCI Thesaurus code of the CDISC codelist, ``None`` when sponsor-defined.
    extensible : bool
        Whether CDISC allows sponsor terms (Define-XML ``def:IsNonStandard`` otherwise).
    """

    id: str
    name: str
    terms: tuple[Term, ...]
    nci_code: str | None = None
    extensible: bool = False
    _by_value: dict[str, Term] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_value", {t.value: t for t in self.terms})
        if len(self._by_value) != len(self.terms):
            raise ValueError(f"codelist {self.id}: a stored value appears twice")

    @property
    def values(self) -> tuple[str, ...]:
        """The stored values, in order."""
        return tuple(t.value for t in self.terms)

    def term(self, value: str) -> Term:
        """The term whose stored value is ``value``.

        Raises
        ------
        cletrial.errors.InputError
            Naming the codelist and the value, listing the allowed values.
        """
        try:
            return self._by_value[value]
        except KeyError:
            raise InputError(self.id, value, f"must be one of {', '.join(self.values)}") from None

    def submission(self, value: str) -> str:
        """The CDISC submission value of a stored value."""
        return self.term(value).submission

    def decode(self, value: str) -> str:
        """The decode (display text) of a stored value."""
        return self.term(value).decode
