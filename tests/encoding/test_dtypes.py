"""Decoding restores the raw dtype and the kind of missing value exactly."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.encoding.dtypes import TargetDtype, default_dtype
from dpsynth.errors import SchemaError
from dpsynth.schema import ColumnSpec, Schema

from .conftest import assert_round_trip

CATS = ("a", "b", "c")


def categorical(dtype, nullable=True, categories=CATS):
    return ColumnSpec("v", "categorical", categories=categories, nullable=nullable, dtype=dtype)


CASES = [
    # (raw column, spec); every raw column holds a missing value where its dtype can
    (pd.Series(["a", None, "c"], dtype="str"), categorical("str")),
    (pd.Series(["a", None, "c"], dtype="string"), categorical("string")),
    (pd.Series(["a", None, "c"], dtype=object), categorical("object")),
    (pd.Series(["a", np.nan, "c"], dtype=object), categorical("object")),
    (pd.Series(["a", pd.NA, "c"], dtype=object), categorical("object")),
    (pd.Series(["a", None, "c"], dtype="category").cat.set_categories(list(CATS)), categorical("category")),
    (pd.Series([1, 3, 2], dtype="int64"), categorical("int64", nullable=False, categories=(1, 2, 3))),
    (pd.Series([1, None, 2], dtype="Int8"), categorical("Int8", categories=(1, 2, 3))),
    (pd.Series([1.0, np.nan, 2.0]), categorical("float64", categories=(1, 2, 3))),
    (pd.Series([True, False, True]), ColumnSpec("v", "boolean", dtype="bool")),
    (pd.Series([True, None, False], dtype="boolean"), ColumnSpec("v", "boolean", nullable=True, dtype="boolean")),
    (pd.Series([True, None, False], dtype=object), ColumnSpec("v", "boolean", nullable=True, dtype="object")),
    (pd.Series([0, 7, 9], dtype="int64"), ColumnSpec("v", "integer", lower=0, upper=9, dtype="int64")),
    (pd.Series([0, 7, 9], dtype="uint8"), ColumnSpec("v", "integer", lower=0, upper=9, dtype="uint8")),
    (pd.Series([0, 7, 9], dtype="int32"), ColumnSpec("v", "integer", lower=0, upper=9, dtype="int32")),
    (pd.Series([0, None, 9], dtype="Int64"), ColumnSpec("v", "integer", lower=0, upper=9, nullable=True, dtype="Int64")),
    (pd.Series([0.0, np.nan, 9.0]), ColumnSpec("v", "integer", lower=0, upper=9, nullable=True, dtype="float64")),
    (pd.Series([0, None, 9], dtype=object), ColumnSpec("v", "integer", lower=0, upper=9, nullable=True, dtype="object")),
    (pd.Series([0.5, np.nan, 2.5]), ColumnSpec("v", "continuous", lower=0.0, upper=3.0, nullable=True, dtype="float64")),
    (pd.Series([0.5, None, 2.5], dtype="Float64"), ColumnSpec("v", "continuous", lower=0.0, upper=3.0, nullable=True, dtype="Float64")),
    (pd.Series(pd.to_datetime(["2020-01-05", None, "2020-03-01"])).astype("datetime64[ns]"),
     ColumnSpec("v", "datetime", lower="2020-01-01", upper="2021-01-01", nullable=True, dtype="datetime64[ns]")),
    (pd.Series(pd.to_datetime(["2020-01-05", None, "2020-03-01"])).astype("datetime64[s]"),
     ColumnSpec("v", "datetime", lower="2020-01-01", upper="2021-01-01", nullable=True, dtype="datetime64[s]")),
    (pd.Series(pd.to_datetime(["2020-01-05 10:00", None, "2020-03-01 00:00"])).dt.tz_localize("Asia/Tokyo"),
     ColumnSpec("v", "datetime", lower="2020-01-01", upper="2021-01-01", nullable=True, dtype="datetime64[us, Asia/Tokyo]")),
]


@pytest.mark.parametrize(("raw", "spec"), CASES, ids=lambda x: str(getattr(x, "dtype", "")))
def test_dtype_and_missing_kind_are_restored(raw, spec):
    df = pd.DataFrame({"v": raw})
    encoder = TableEncoder(Schema((spec,))).fit(df)
    decoded = assert_round_trip(encoder, df)
    assert decoded["v"].dtype == raw.dtype
    for got, want in zip(decoded["v"], raw, strict=True):
        if pd.isna(want):
            assert type(got) is type(want), (got, want)  # NaN stays NaN, None None, NA NA, NaT NaT


def test_category_dtype_keeps_declared_categories_and_order():
    raw = pd.Series(["b", "a"], dtype=pd.CategoricalDtype(["a", "b", "c"], ordered=True))
    encoder = TableEncoder(Schema((categorical("category", nullable=False),))).fit(pd.DataFrame({"v": raw}))
    decoded = encoder.decode(encoder.encode(pd.DataFrame({"v": raw})), rng=0)["v"]
    assert decoded.dtype == raw.dtype and decoded.cat.ordered


def test_object_missing_marker_defaults_to_none_without_fit():
    encoder = TableEncoder(Schema((categorical("object"),)))
    assert encoder.decode({"v": np.array([3])})["v"].tolist() == [None]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (categorical(None), "object"),
        (ColumnSpec("v", "integer", lower=0, upper=1), "int64"),
        (ColumnSpec("v", "integer", lower=0, upper=1, nullable=True), "Int64"),
        (ColumnSpec("v", "continuous", lower=0, upper=1), "float64"),
        (ColumnSpec("v", "datetime", lower="2020-01-01", upper="2021-01-01"), "datetime64[ns]"),
        (ColumnSpec("v", "boolean"), "bool"),
        (ColumnSpec("v", "boolean", nullable=True), "boolean"),
    ],
)
def test_default_dtypes_can_hold_missing_values_when_nullable(spec, expected):
    assert default_dtype(spec) == expected
    assert TableEncoder(Schema((spec,))).dtype("v") == expected


def test_fit_does_not_override_a_declared_dtype():
    spec = ColumnSpec("v", "integer", lower=0, upper=9, dtype="Int64")
    encoder = TableEncoder(Schema((spec,))).fit(pd.DataFrame({"v": np.array([1, 2], dtype=np.int8)}))
    assert encoder.dtype("v") == "Int64"


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        # a missing code that int64 / bool cannot hold
        (ColumnSpec("v", "integer", lower=0, upper=9, nullable=True, dtype="int64"), "cannot hold"),
        (ColumnSpec("v", "boolean", nullable=True, dtype="bool"), r"code 2 \(<missing>\) does not survive"),
        # text categories in an integer dtype
        (categorical("int64", nullable=False), "cannot hold"),
        # a fractional category would be truncated
        (categorical("int64", nullable=False, categories=(1, 1.5)), "does not survive"),
        # continuous values in an integer dtype would lose their fraction (bins narrower than one)
        (ColumnSpec("v", "continuous", lower=0.0, upper=1.0, bins=4, dtype="int64"), "does not survive"),
        # bins of half a second hold no instant at a resolution of one second
        (ColumnSpec("v", "datetime", lower="2020-01-01", upper="2020-01-01T00:00:02", bins=4,
                    dtype="datetime64[s]"), "resolution"),
        (categorical("no-such-dtype"), "not a pandas dtype"),
    ],
)
def test_dtype_that_cannot_hold_the_codes_is_refused(spec, text):
    with pytest.raises(SchemaError, match=text) as err:
        TableEncoder(Schema((spec,)))
    assert err.value.problems[0].column == "v"


@pytest.mark.parametrize(
    ("make", "text"),
    [
        # an integer range beyond uint8
        (lambda: ColumnSpec("v", "integer", lower=0, upper=300, bins=300, dtype="uint8"),
         r"upper bound \(300\) is outside what dtype 'uint8' holds \(0 to 255\)"),
        (lambda: ColumnSpec("v", "integer", lower=-1000, dtype="Int8"), r"lower bound \(-1000\) is outside"),
        (lambda: ColumnSpec("v", "continuous", lower=0.0, upper=1000.0, dtype="uint8"), r"upper bound \(1000\)"),
    ],
)
def test_a_range_or_kind_an_integer_dtype_cannot_hold_is_refused_with_the_schema(make, text):
    # refused where the schema is built, before discovery could spend anything on the column
    with pytest.raises(SchemaError, match=text) as err:
        make()
    assert err.value.problems[0].column == "v"
    assert ColumnSpec("v", "integer", lower=-128, upper=127, dtype="int8").upper == 127


def test_other_label_must_fit_the_dtype_and_differ_from_categories():
    spec = ColumnSpec("v", "categorical", categories=(1, 2), on_unknown="other", dtype="int64")
    with pytest.raises(SchemaError, match="cannot hold"):
        TableEncoder(Schema((spec,)))
    with pytest.raises(SchemaError, match="matches the category"):
        TableEncoder(Schema((spec,)), other_label=2)
    encoder = TableEncoder(Schema((spec,)), other_label=-1)
    with pytest.warns(OutOfDomainWarning):
        encoded = encoder.encode(pd.DataFrame({"v": [1, 5]}))
    decoded = encoder.decode(encoded, rng=0)
    assert decoded["v"].tolist() == [1, -1] and decoded["v"].dtype == np.int64


def test_target_dtype_reports_units_and_zones():
    assert TargetDtype("v", "datetime64[ms]").datetime_unit == "ms"
    assert str(TargetDtype("v", "datetime64[ns, UTC]").timezone) == "UTC"
    assert TargetDtype("v", "float64").datetime_unit is None
