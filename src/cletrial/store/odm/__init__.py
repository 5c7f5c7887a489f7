"""CDISC ODM 1.3.2: export of a study database and the import that reads that export back.

The export (:func:`export_odm`) writes one Snapshot file: the study design (a MetaDataVersion
with one ItemGroupDef per kind of record of the import format, ``docs/store.md``), the users and
sites (AdminData), every stored value of the study (ClinicalData) and the audit trail
(AuditRecords). :func:`import_odm` reads such a file into an empty database in one unit of work.
The mapping is in :mod:`cletrial.store.odm.metadata`.
"""

from cletrial.store.odm.export import export_odm, export_odm_file, render_odm
from cletrial.store.odm.importer import OdmFileError, import_odm, import_odm_file, validate_odm

__all__ = [
    "OdmFileError",
    "export_odm",
    "export_odm_file",
    "import_odm",
    "import_odm_file",
    "render_odm",
    "validate_odm",
]
