"""Shared checks for the encoder tests."""

import numpy as np
import pandas as pd

from dpsynth.encoding import TableEncoder
from dpsynth.schema import ColumnKind


def within_bins(encoder: TableEncoder, column: str, raw: pd.Series, codes: np.ndarray) -> np.ndarray:
    """Per row: the raw value lies in the closed interval of the bin of its code."""
    edges = encoder.bin_edges(column)
    present = ~raw.isna().to_numpy()
    codes = codes.astype(np.int64)[present]
    if encoder.schema[column].kind is ColumnKind.DATETIME:
        values = pd.to_datetime(raw[present], utc=True).dt.tz_localize(None)
        values = values.astype("datetime64[ns]").to_numpy()
    else:
        values = pd.to_numeric(raw[present]).to_numpy(dtype=float)
    return (edges[codes] <= values) & (values <= edges[codes + 1])


def assert_round_trip(encoder: TableEncoder, df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """decode(encode(df)): exact for categorical and boolean columns, same bin otherwise."""
    encoded = encoder.encode(df)
    decoded = encoder.decode(encoded, rng=seed)
    again = encoder.encode(decoded)
    assert list(decoded.columns) == list(encoder.schema.names)
    for spec in encoder.schema:
        name = spec.name
        original, back = df[name].reset_index(drop=True), decoded[name]
        assert back.dtype == original.dtype, name
        np.testing.assert_array_equal(back.isna().to_numpy(), original.isna().to_numpy(), err_msg=name)
        if spec.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            pd.testing.assert_series_equal(back, original, obj=name)
        else:
            assert within_bins(encoder, name, back, encoded[name]).all(), name
            # and every decoded value re-encodes to the code it came from
            np.testing.assert_array_equal(again[name], encoded[name], err_msg=name)
    return decoded
