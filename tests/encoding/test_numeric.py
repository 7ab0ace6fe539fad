import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.encoding.numeric import numeric_edges
from dpsynth.errors import SchemaError
from dpsynth.schema import ColumnSpec, Schema


def encoder_for(spec):
    return TableEncoder(Schema((spec,)))


def test_integer_range_within_bins_gets_one_code_per_number_and_decodes_exactly():
    spec = ColumnSpec("n", "integer", lower=-3, upper=5, bins=16, dtype="int64")
    encoder = encoder_for(spec)
    assert encoder.domain["n"] == 9
    df = pd.DataFrame({"n": np.arange(-3, 6)})
    encoded = encoder.encode(df)
    assert encoded["n"].tolist() == list(range(9))
    pd.testing.assert_frame_equal(encoder.decode(encoded, rng=0), df)


def test_integer_bins_split_the_numbers_into_runs_differing_by_at_most_one():
    edges = numeric_edges(ColumnSpec("n", "integer", lower=0, upper=9, bins=4))
    np.testing.assert_array_equal(edges, [-0.5, 1.5, 4.5, 6.5, 9.5])
    sizes = np.diff(edges)
    assert set(sizes) == {2.0, 3.0} and sizes.sum() == 10


def test_integer_decoding_draws_every_whole_number_of_the_bin_uniformly():
    spec = ColumnSpec("n", "integer", lower=0, upper=9, bins=2, dtype="int64")
    encoder = encoder_for(spec)
    n = 5000
    out = encoder.decode({"n": np.zeros(n, dtype=np.uint8)}, rng=11)["n"]
    counts = out.value_counts().reindex(range(5), fill_value=0)
    assert set(out) <= set(range(5))
    # each of 5 numbers has probability 1/5: 5 standard deviations of a binomial count
    sd = np.sqrt(n * 0.2 * 0.8)
    assert (abs(counts - n / 5) < 5 * sd).all()


def test_explicit_edges_are_used_as_given_and_the_last_bin_is_closed():
    spec = ColumnSpec("x", "continuous", bin_edges=(0, 1, 10, 100))
    encoder = encoder_for(spec)
    encoded = encoder.encode(pd.DataFrame({"x": [0.0, 0.999, 1.0, 10.0, 99.9, 100.0]}))
    assert encoded["x"].tolist() == [0, 0, 1, 2, 2, 2]
    assert encoder.code_labels("x") == ("[0, 1)", "[1, 10)", "[10, 100]")


def test_decoded_values_stay_below_the_upper_edge_of_half_open_bins():
    spec = ColumnSpec("x", "continuous", bin_edges=(0.0, 1e-300, 1.0))
    encoder = encoder_for(spec)
    out = encoder.decode({"x": np.zeros(1000, dtype=np.uint8)}, rng=0)["x"].to_numpy()
    assert ((out >= 0.0) & (out < 1e-300)).all()


@pytest.mark.parametrize("dtype", ["float32", "Float32"])
def test_narrow_float_dtypes_keep_decoded_values_inside_the_bin(dtype):
    # a bin about 13 float32 steps wide, ending at 0.1, which float32 rounds up
    spec = ColumnSpec("x", "continuous", bin_edges=(0.0, 0.1 - 1e-7, 0.1, 1.0), dtype=dtype)
    encoder = encoder_for(spec)
    codes = np.repeat(np.arange(3), 2000)
    out = encoder.decode({"x": codes}, rng=0)["x"]
    assert str(out.dtype) == dtype
    np.testing.assert_array_equal(encoder.encode(out.to_frame())["x"], codes)


def test_clipping_counts_and_moves_values_into_the_end_bins():
    spec = ColumnSpec("x", "continuous", lower=0.0, upper=10.0, bins=5)
    encoder = encoder_for(spec)
    df = pd.DataFrame({"x": [-1e9, -0.1, 0.0, 5.0, 10.0, 10.5]})
    with pytest.warns(OutOfDomainWarning, match=r"'x': 3 value\(s\) outside the declared bounds"):
        encoded = encoder.encode(df)
    assert encoded["x"].tolist() == [0, 0, 0, 2, 4, 4]
    assert encoded.report.clipped == {"x": 3}
    assert encoder.decode(encoded, rng=0)["x"].between(0.0, 10.0).all()


def test_integer_column_given_as_text_or_float():
    spec = ColumnSpec("n", "integer", lower=0, upper=3, nullable=True, dtype="Int64")
    encoder = encoder_for(spec)
    encoded = encoder.encode(pd.DataFrame({"n": ["0", "3", None]}))
    assert encoded["n"].tolist() == [0, 3, 4]
    assert encoder.encode(pd.DataFrame({"n": [0.0, 3.0, np.nan]}))["n"].tolist() == [0, 3, 4]


def test_extreme_float_bounds_give_finite_increasing_edges():
    big = np.finfo(float).max
    spec = ColumnSpec("x", "continuous", lower=-big, upper=big, bins=8)
    encoder = encoder_for(spec)
    edges = encoder.bin_edges("x")
    assert np.isfinite(edges).all() and (np.diff(edges) > 0).all()
    df = pd.DataFrame({"x": [-big, 0.0, big, 1e300, -5e-324]})
    encoded = encoder.encode(df)
    out = encoder.decode(encoded, rng=0)["x"]
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(encoder.encode(out.to_frame())["x"], encoded["x"])


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (ColumnSpec("x", "continuous", lower=1.0, upper=1.0 + 2e-16, bins=8), "do not fit in floating point"),
        (ColumnSpec("n", "integer", bin_edges=(0, 0.2, 0.4, 3)), r"bin \[0.2, 0.4\) holds no whole number"),
        (ColumnSpec("n", "integer", lower=0, upper=2**60), "exceed 2\\*\\*53"),
    ],
)
def test_unrepresentable_bins_are_refused(spec, text):
    with pytest.raises(SchemaError, match=text):
        encoder_for(spec)


def test_integer_labels_name_the_numbers_of_each_bin():
    encoder = encoder_for(ColumnSpec("n", "integer", lower=1, upper=10, bins=3))
    assert encoder.code_labels("n") == ("1-3", "4-6", "7-10")
