import pickle
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.domain import Domain
from dpsynth.encoding import EncodedTable, TableEncoder
from dpsynth.encoding.codec import smallest_uint
from dpsynth.engines import NumpyEngine
from dpsynth.errors import InputDataError, ParameterError, SchemaError
from dpsynth.schema import ColumnSpec, Schema

from .conftest import assert_round_trip, within_bins


@pytest.fixture(scope="module")
def adult():
    return load_adult("train")


@pytest.fixture(scope="module")
def adult_encoder():
    return TableEncoder(adult_schema())


def small_schema(**overrides):
    cols = {
        "color": ColumnSpec("color", "categorical", categories=("red", "green"), nullable=True, dtype="object"),
        "n": ColumnSpec("n", "integer", lower=0, upper=9, dtype="int64"),
    }
    cols.update(overrides)
    return Schema(tuple(cols.values()))


# -- Adult -------------------------------------------------------------------------------
def test_adult_round_trip(adult, adult_encoder):
    decoded = assert_round_trip(adult_encoder, adult)
    assert decoded.dtypes.equals(adult.dtypes)
    # the codebook's missing values stay <NA> in the string columns
    assert decoded["occupation"].isna().sum() == adult["occupation"].isna().sum() > 0


def test_adult_test_split_round_trip(adult_encoder):
    assert_round_trip(adult_encoder, load_adult("test"), seed=1)


def test_adult_domain_follows_schema_order_with_missing_codes(adult_encoder):
    domain = adult_encoder.domain
    assert domain.attributes == adult_schema().names
    assert domain["sex"] == 2
    assert domain["workclass"] == 8 + 1  # eight codebook categories and a missing code
    assert adult_encoder.missing_code("workclass") == 8
    assert adult_encoder.missing_code("sex") is None
    assert domain["education-num"] == 16  # 1..16: one code per whole number
    assert domain["age"] == 16


def test_adult_original_values_lie_in_their_bins(adult, adult_encoder):
    encoded = adult_encoder.encode(adult)
    for name in ("age", "fnlwgt", "capital-gain", "hours-per-week"):
        assert within_bins(adult_encoder, name, adult[name], encoded[name]).all()
    assert encoded.report.affected == 0


def test_adult_codes_are_compact_and_engine_ready(adult, adult_encoder):
    encoded = adult_encoder.encode(adult)
    assert len(encoded) == len(adult)
    assert all(encoded[a].dtype == np.uint8 for a in encoded.domain)
    assert encoded.to_array().shape == (len(adult), 15)
    (sex,) = NumpyEngine(encoded.columns, encoded.domain).counts([("sex",)])
    assert sex.tolist() == [(adult["sex"] == "Female").sum(), (adult["sex"] == "Male").sum()]
    with pytest.raises(ValueError):
        encoded["age"][0] = 1  # codes are read-only


def test_adult_encode_and_decode_take_well_under_a_second(adult, adult_encoder):
    # CPU time of this process, so that other work on the machine does not count
    start = time.process_time()
    encoded = adult_encoder.encode(adult)
    adult_encoder.decode(encoded, rng=0)
    # 32k rows x 15 columns: about 0.15 s on the 2-core reference machine
    assert time.process_time() - start < 1.0


def test_decoding_is_reproducible_with_a_seed(adult, adult_encoder):
    encoded = adult_encoder.encode(adult.head(500))
    first = adult_encoder.decode(encoded, rng=3)
    pd.testing.assert_frame_equal(first, adult_encoder.decode(encoded, rng=3))
    assert not first["fnlwgt"].equals(adult_encoder.decode(encoded, rng=4)["fnlwgt"])


# -- decode input ------------------------------------------------------------------------
def test_decode_accepts_mappings_and_2d_arrays():
    encoder = TableEncoder(small_schema())
    codes = {"color": np.array([0, 1, 2]), "n": np.array([9, 0, 5])}
    by_map = encoder.decode(codes, rng=0)
    by_array = encoder.decode(np.column_stack([codes["color"], codes["n"]]), rng=0)
    pd.testing.assert_frame_equal(by_map, by_array)
    assert by_map["color"].tolist() == ["red", "green", None]
    assert by_map["n"].tolist() == [9, 0, 5]


@pytest.mark.parametrize(
    ("codes", "match"),
    [
        ({"color": np.array([0])}, "codes for every attribute"),
        ({"color": np.array([0, 1]), "n": np.array([1])}, "different lengths"),
        ({"color": np.array([3]), "n": np.array([1])}, r"codes\['color'\].*within 0..2"),
        ({"color": np.array([-1]), "n": np.array([1])}, r"within 0..2"),
        ({"color": np.array([0.5]), "n": np.array([1])}, "integer array"),
        (np.zeros((2, 3), dtype=int), "2-D array with 2 columns"),
    ],
)
def test_decode_refuses_bad_codes(codes, match):
    with pytest.raises(ParameterError, match=match):
        TableEncoder(small_schema()).decode(codes)


def test_decode_of_zero_rows_keeps_columns_and_dtypes():
    encoder = TableEncoder(small_schema())
    out = encoder.decode({"color": np.array([], dtype=np.uint8), "n": np.array([], dtype=np.uint8)})
    assert list(out.columns) == ["color", "n"] and len(out) == 0
    assert str(out["n"].dtype) == "int64"


# -- refusing bad input ------------------------------------------------------------------
def test_incomplete_schema_is_refused_naming_the_columns():
    schema = Schema((ColumnSpec("c", "categorical"), ColumnSpec("x", "continuous", lower=0.0)))
    with pytest.raises(SchemaError) as err:
        TableEncoder(schema)
    assert [p.column for p in err.value.problems] == ["c", "x"]
    assert "discover them with DP" in str(err.value)


def test_encoder_needs_a_schema():
    with pytest.raises(ParameterError, match="schema"):
        TableEncoder({"a": 1})


@pytest.mark.parametrize(
    ("df", "column", "text"),
    [
        (pd.DataFrame({"color": ["red"], "n": [1], "extra": [0]}), "extra", "does not declare it"),
        (pd.DataFrame({"color": ["red"]}), "n", "lacks it"),
        (pd.DataFrame({"color": ["red", "blue"], "n": [1, 2]}), "color", "'blue'"),
        (pd.DataFrame({"color": ["red", None], "n": [1.0, np.inf]}), "n", "not finite"),
        (pd.DataFrame({"color": ["red", "red"], "n": ["1", "x"]}), "n", "'x' is not a number"),
        (pd.DataFrame({"color": [None, None], "n": [1, 2]}), "color", "every value is missing"),
        (pd.DataFrame({"color": pd.Series([], dtype=object), "n": pd.Series([], dtype=int)}), None, "no rows"),
        (pd.DataFrame([["red", 1, 2]], columns=["color", "n", "n"]), "n", "more than one column"),
    ],
)
def test_bad_tables_are_refused_before_encoding(df, column, text):
    encoder = TableEncoder(small_schema(n=ColumnSpec("n", "integer", lower=0, upper=9, on_unknown="error")))
    with pytest.raises(InputDataError) as err:
        encoder.encode(df)
    assert any(p.column == column and text in str(p) for p in err.value.problems), str(err.value)


def test_every_problem_is_reported_at_once():
    encoder = TableEncoder(small_schema())
    df = pd.DataFrame({"color": ["red", "blue"], "n": [1.0, np.nan]})
    with pytest.raises(InputDataError) as err:
        encoder.encode(df)
    assert {p.column for p in err.value.problems} == {"color", "n"}


def test_wrong_dtype_for_the_kind_is_refused():
    schema = Schema((ColumnSpec("n", "integer", lower=0, upper=9),))
    with pytest.raises(InputDataError, match="not a number"):
        TableEncoder(schema).encode(pd.DataFrame({"n": ["one", "two"]}))


def test_column_order_of_the_input_does_not_matter():
    encoder = TableEncoder(small_schema())
    df = pd.DataFrame({"n": [3, 4], "color": ["green", None]})
    encoded = encoder.encode(df)
    assert encoded.domain.attributes == ("color", "n")
    assert list(encoder.decode(encoded, rng=0).columns) == ["color", "n"]


def test_encode_refuses_a_non_frame():
    with pytest.raises(ParameterError, match="DataFrame"):
        TableEncoder(small_schema()).encode([["red", 1]])


# -- labels and edges ----------------------------------------------------------------------
def test_code_labels_and_bin_edges():
    encoder = TableEncoder(
        small_schema(
            color=ColumnSpec("color", "categorical", categories=("red", "green"), nullable=True,
                             on_unknown="other"),
            x=ColumnSpec("x", "continuous", lower=0.0, upper=1.0, bins=4),
        )
    )
    assert encoder.code_labels("color") == ("red", "green", "<other>", "<missing>")
    assert encoder.other_code("color") == 2 and encoder.missing_code("color") == 3
    assert encoder.code_labels("x") == ("[0, 0.25)", "[0.25, 0.5)", "[0.5, 0.75)", "[0.75, 1]")
    np.testing.assert_array_equal(encoder.bin_edges("x"), [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ParameterError, match="no bins"):
        encoder.bin_edges("color")
    with pytest.raises(ParameterError, match="column"):
        encoder.code_labels("nope")


def test_code_of_one_raw_value():
    encoder = TableEncoder(Schema((
        ColumnSpec("c", "categorical", categories=(1, 2), nullable=True, on_unknown="other"),
        ColumnSpec("x", "continuous", lower=0.0, upper=1.0, bins=4),
        ColumnSpec("t", "datetime", lower="2020-01-01", upper="2021-01-01", bins=12),
        ColumnSpec("b", "boolean"),
    )))
    assert [encoder.code_of("c", v) for v in (1, "2", 2.0, None, np.nan)] == [0, 1, 1, 3, 3]
    assert encoder.code_of("x", 0.3) == 1 and encoder.code_of("x", "1") == 3
    assert encoder.code_of("t", "2020-12-31") == 11
    assert encoder.code_of("b", True) == 1
    for column, value, text in [
        ("c", 5, "not among the declared categories"),  # even under on_unknown: other
        ("x", 1.5, r"outside \[0.0, 1.0\].*fix: pass a value of the column's domain: \[0, 0.25\)"),
        ("x", "abc", "not a number"),
        ("t", "someday", "not a datetime"),
        ("b", None, "not nullable"),
    ]:
        with pytest.raises(InputDataError, match=text):
            encoder.code_of(column, value)


def test_smallest_unsigned_dtype():
    assert smallest_uint(256) == np.uint8
    assert smallest_uint(257) == np.uint16
    assert smallest_uint(70_000) == np.uint32
    assert smallest_uint(2**33) == np.uint64


def test_encoder_and_encoded_table_pickle(adult, adult_encoder):
    encoded = adult_encoder.encode(adult.head(100))
    encoded_back = pickle.loads(pickle.dumps(encoded))
    assert encoded_back.domain == encoded.domain and encoded_back.report.columns == encoded.report.columns
    np.testing.assert_array_equal(encoded_back.to_array(), encoded.to_array())
    encoder_back = pickle.loads(pickle.dumps(adult_encoder))
    pd.testing.assert_frame_equal(encoder_back.decode(encoded, rng=1), adult_encoder.decode(encoded, rng=1))


def test_encoded_table_to_array_uses_a_common_dtype():
    codes = {"a": np.array([0, 1], dtype=np.uint8), "b": np.array([300, 2], dtype=np.uint16)}
    table = EncodedTable(codes, Domain(("a", "b"), (2, 301)))
    array = table.to_array()
    assert array.dtype == np.uint16 and array.tolist() == [[0, 300], [1, 2]]
    assert not table["a"].flags.writeable
    codes["a"][0] = 1  # the caller's own arrays stay writable


def test_undeclared_codes_are_other_codes_and_assumed_missing_codes():
    schema = small_schema(
        size=ColumnSpec("size", "categorical", categories=("s", "m"), on_unknown="other", nullable=True,
                        dtype="object"),
        x=ColumnSpec("x", "continuous", lower=0.0, upper=1.0, bins=4, nullable=True, dtype="float64"),
    )
    encoder = TableEncoder(schema)
    # declared nullability: only the "other" code (no category behind it) is undeclared
    assert encoder.undeclared_codes() == {"size": (2,)}
    assert encoder.code_labels("size")[2] == "<other>"
    # nullability assumed from the dtypes: every missing code joins
    assumed = Schema(tuple(replace(spec, nullable_assumed=spec.nullable) for spec in schema))
    assert TableEncoder(assumed).undeclared_codes() == {"color": (2,), "size": (2, 3), "x": (4,)}
    # declared categories and bins never are
    assert "n" not in TableEncoder(assumed).undeclared_codes()
