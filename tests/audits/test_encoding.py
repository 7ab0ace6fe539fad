"""The shared encoding: one-hot over every table's categories, numeric range scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits._encoding import Encoder, as_category_strings, is_numeric


def test_categories_cover_all_tables_and_numbers_are_scaled():
    left = pd.DataFrame({"c": ["a", "b"], "v": [0.0, 10.0]})
    right = pd.DataFrame({"c": ["z"], "v": [5.0]})
    encoder = Encoder([left, right], ["c", "v"])
    # Columns: c=a, c=b, c=z, v scaled, v missing.
    assert encoder.transform(right).tolist() == [[0.0, 0.0, 1.0, 0.5, 0.0]]
    assert encoder.transform(left)[:, 3].tolist() == [0.0, 1.0]


def test_missing_values_get_their_own_category_and_indicator():
    frame = pd.DataFrame({"c": ["a", None], "v": [1.0, np.nan]})
    encoded = Encoder([frame], ["c", "v"]).transform(frame)
    # Categories sort as '<NA>' < 'a'; numeric missing is 0 with indicator 1.
    assert encoded.tolist() == [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    assert as_category_strings(frame["c"]).tolist() == ["a", "<NA>"]


def test_nullable_number_columns_encode_like_float_columns():
    nullable = pd.DataFrame({"c": ["a", "b"], "v": pd.array([1, None], dtype="Int64")})
    floats = pd.DataFrame({"c": ["a", "b"], "v": [1.0, np.nan]})
    np.testing.assert_array_equal(
        Encoder([nullable], ["c", "v"]).transform(nullable), Encoder([floats], ["c", "v"]).transform(floats)
    )


def test_booleans_are_categories():
    assert not is_numeric(pd.Series([True, False]))
    assert is_numeric(pd.Series([1, 2]))
