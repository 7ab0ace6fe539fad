"""Raw tables <-> integer codes, driven by a complete public schema.

See :mod:`dpsynth.encoding.table` for the encoder and the modules it uses for
the encoding rules of each kind of column.
"""

from dpsynth.encoding.codec import MISSING_LABEL, OTHER_LABEL
from dpsynth.encoding.report import ColumnReport, EncodingReport, OutOfDomainWarning
from dpsynth.encoding.table import DEFAULT_OTHER_LABEL, EncodedTable, TableEncoder

__all__ = [
    "DEFAULT_OTHER_LABEL",
    "MISSING_LABEL",
    "OTHER_LABEL",
    "ColumnReport",
    "EncodedTable",
    "EncodingReport",
    "OutOfDomainWarning",
    "TableEncoder",
]
