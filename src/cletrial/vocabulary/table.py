"""The vocabulary as a Markdown table (the one in ``docs/vocabulary.md``, checked by a test).

>>> print(markdown_table()[0])
| Codelist | NCI code | Stored value | CDISC submission value | Decode |
"""

from __future__ import annotations

from cletrial.vocabulary import CODELISTS

__all__ = ["markdown_table"]


def markdown_table() -> list[str]:
    """Every term of every codelist, one row each, codelists in :data:`CODELISTS` order.

    Returns
    -------
    list of str
        The lines of a Markdown table: codelist id and name (on its first term), the NCI
        Thesaurus code of the codelist or term (blank when sponsor-defined), the stored value,
        the CDISC submission value and the decode. A codelist takes one row, then each of its
        terms one row.

    >>> markdown_table()[2:4]
    ['| `SEX` Sex | C66731 | | | |', '| | C16576 | `F` | `F` | Female |']
    """
    lines = [
        "| Codelist | NCI code | Stored value | CDISC submission value | Decode |",
        "|---|---|---|---|---|",
    ]
    for codelist in CODELISTS.values():
        name = f"`{codelist.id}` {codelist.name}"
        if codelist.extensible:
            name += " (extensible)"
        lines.append(f"| {name} | {codelist.nci_code or ''} | | | |")
        for term in codelist.terms:
            cells = (term.nci_code or "", f"`{term.value}`", f"`{term.submission}`", term.decode)
            lines.append("| | " + " | ".join(cells) + " |")
    return [line.replace("|  |", "| |") for line in lines]
