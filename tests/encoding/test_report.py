import warnings

import pandas as pd
import pytest

from dpsynth.encoding import ColumnReport, EncodingReport, OutOfDomainWarning, TableEncoder
from dpsynth.schema import ColumnSpec, Schema


def test_report_is_marked_private_everywhere_it_shows():
    report = EncodingReport({"a": ColumnReport(clipped=2), "b": ColumnReport(other=1), "c": ColumnReport()})
    assert EncodingReport.private is True
    assert repr(report).startswith("EncodingReport(PRIVATE")
    assert report.clipped == {"a": 2} and report.other == {"b": 1} and report.affected == 3
    assert report.messages() == [
        "column 'a': 2 value(s) outside the declared bounds were clipped to them",
        "column 'b': 1 value(s) outside the declared categories were mapped to \"other\"",
    ]
    with pytest.warns(OutOfDomainWarning, match=r"^PRIVATE \(do not publish\)"):
        report.warn()


def test_report_is_read_only():
    report = EncodingReport({"a": ColumnReport(clipped=2)})
    with pytest.raises(TypeError):
        report.columns["a"] = ColumnReport()


def test_nothing_to_report_means_no_warning():
    encoder = TableEncoder(Schema((ColumnSpec("x", "continuous", lower=0.0, upper=1.0),)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = encoder.encode(pd.DataFrame({"x": [0.0, 0.5, 1.0]}))
    assert encoded.report.affected == 0
    assert list(encoded.report.columns) == ["x"]


def test_warning_points_at_the_callers_line():
    encoder = TableEncoder(Schema((ColumnSpec("x", "continuous", lower=0.0, upper=1.0),)))
    with pytest.warns(OutOfDomainWarning) as record:
        encoder.encode(pd.DataFrame({"x": [2.0]}))
    assert record[0].filename == __file__
