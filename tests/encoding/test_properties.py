"""Property-based tests: random schemas and frames, with NaN, empty strings, extreme floats."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.errors import SchemaError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, category_key

from .conftest import within_bins

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N_ROWS = st.integers(1, 30)

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=5)
finite = st.floats(allow_nan=False, allow_infinity=False)


def categorical_column(draw, name, n):
    cats = draw(st.one_of(
        st.lists(text, min_size=1, max_size=6, unique=True),  # "" included
        st.lists(st.integers(-5, 5), min_size=1, max_size=6, unique=True),
    ))
    nullable, other = draw(st.booleans()), draw(st.booleans())
    pool = list(cats)
    outside = []
    if other:
        outside = draw(st.lists(text.filter(lambda v: category_key(v) not in {category_key(c) for c in cats}),
                                min_size=1, max_size=3))
    pool += outside + ([None] if nullable else [])
    values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    if all(v is None for v in values):
        values[0] = cats[0]
    text_only = all(isinstance(v, str) for v in pool if v is not None)
    # pandas' text dtypes hold text only: numbers stay in object columns
    dtype = draw(st.sampled_from(["object", "str", "string"])) if text_only else "object"
    spec = ColumnSpec(name, "categorical", categories=tuple(cats), nullable=nullable,
                      on_unknown="other" if other else "error", dtype=dtype)
    n_other = sum(v is not None and category_key(v) not in {category_key(c) for c in cats} for v in values)
    return pd.Series(values, dtype=dtype), spec, {"other": n_other}


def integer_column(draw, name, n):
    lower = draw(st.integers(-10**6, 10**6))
    upper = lower + draw(st.integers(1, 500))
    nullable = draw(st.booleans())
    values = draw(st.lists(st.integers(lower - 50, upper + 50), min_size=n, max_size=n))
    dtype = draw(st.sampled_from(["Int64", "float64"])) if nullable else "int64"
    series = pd.Series(values, dtype=dtype)
    if nullable:
        series[draw(st.lists(st.integers(0, n - 1), max_size=n // 2))] = None
        if series.isna().all():
            series[0] = lower
    spec = ColumnSpec(name, "integer", lower=lower, upper=upper, bins=draw(st.integers(1, 20)),
                      nullable=nullable, dtype=dtype)
    present = series.dropna()
    return series, spec, {"clipped": int(((present < lower) | (present > upper)).sum())}


def continuous_column(draw, name, n):
    lower, upper = sorted(draw(st.lists(finite, min_size=2, max_size=2, unique=True)))
    values = draw(st.lists(st.one_of(finite, st.sampled_from([lower, upper])), min_size=n, max_size=n))
    nullable = draw(st.booleans())
    series = pd.Series(values, dtype="float64")
    if nullable:
        series[draw(st.lists(st.integers(0, n - 1), max_size=n // 2))] = np.nan
        if series.isna().all():
            series[0] = lower
    spec = ColumnSpec(name, "continuous", lower=lower, upper=upper, bins=draw(st.integers(1, 10)),
                      nullable=nullable, dtype="float64")
    present = series.dropna()
    return series, spec, {"clipped": int(((present < lower) | (present > upper)).sum())}


def datetime_column(draw, name, n):
    unit = draw(st.sampled_from(["s", "us", "ns"]))
    lower = pd.Timestamp(draw(st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                                           max_value=pd.Timestamp("2200-01-01").to_pydatetime()))).floor("s")
    span = pd.Timedelta(seconds=draw(st.integers(60, 10**9)))
    upper = lower + span
    offsets = draw(st.lists(st.floats(-0.2, 1.2), min_size=n, max_size=n))
    values = pd.Series([lower + off * span for off in offsets]).astype(f"datetime64[{unit}]")
    nullable = draw(st.booleans())
    if nullable and n > 1:
        values[draw(st.integers(0, n - 1))] = None
    clipped = int(((values < lower) | (values > upper)).sum())
    zone = draw(st.sampled_from([None, "UTC", "Asia/Kolkata"]))
    if zone is not None:  # the same instants, shown in a time zone
        values = values.dt.tz_localize("UTC").dt.tz_convert(zone)
    spec = ColumnSpec(name, "datetime", lower=lower.isoformat(), upper=upper.isoformat(),
                      bins=draw(st.integers(1, 12)), nullable=nullable, dtype=str(values.dtype))
    return values, spec, {"clipped": clipped}


def boolean_column(draw, name, n):
    nullable = draw(st.booleans())
    values = draw(st.lists(st.sampled_from([True, False] + [None] * nullable), min_size=n, max_size=n))
    if all(v is None for v in values):
        values[0] = True
    dtype = "boolean" if nullable else "bool"
    return pd.Series(values, dtype=dtype), ColumnSpec(name, "boolean", nullable=nullable, dtype=dtype), {}


MAKERS = [categorical_column, integer_column, continuous_column, datetime_column, boolean_column]


@st.composite
def tables(draw):
    n = draw(N_ROWS)
    makers = draw(st.lists(st.sampled_from(MAKERS), min_size=1, max_size=5))
    columns, specs, expected = {}, [], {}
    for i, make in enumerate(makers):
        series, spec, counts = make(draw, f"c{i}", n)
        columns[spec.name], expected[spec.name] = series, counts
        specs.append(spec)
    return pd.DataFrame(columns), Schema(tuple(specs)), expected


def make_encoder(schema):
    try:
        return TableEncoder(schema)
    except SchemaError as exc:
        # the only refusal: bins narrower than floating point can separate
        assert all("do not fit in floating point" in p.message for p in exc.problems), str(exc)
        return None


@SETTINGS
@given(tables(), st.integers(0, 2**32 - 1))
def test_encode_decode_round_trip(table, seed):
    df, schema, expected = table
    encoder = make_encoder(schema)
    if encoder is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfDomainWarning)
        encoded = encoder.encode(df)
        decoded = encoder.decode(encoded, rng=seed)
        again = encoder.encode(decoded)
    assert decoded.dtypes.equals(df.dtypes)
    for spec in schema:
        name = spec.name
        codes = encoded[name]
        assert codes.dtype.kind == "u" and codes.max() < encoder.domain[name]
        report = encoded.report.columns[name]
        assert report.clipped == expected[name].get("clipped", 0)
        assert report.other == expected[name].get("other", 0)
        np.testing.assert_array_equal(decoded[name].isna(), df[name].isna())
        np.testing.assert_array_equal(again[name], codes)
        if spec.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            keep = (codes != encoder.other_code(name)) if spec.on_unknown == "other" else slice(None)
            pd.testing.assert_series_equal(decoded[name][keep], df[name][keep])
        else:
            assert within_bins(encoder, name, decoded[name], codes).all()


@SETTINGS
@given(tables())
def test_codes_of_every_attribute_decode(table):
    """Any code a model may sample decodes to a value that re-encodes to that code."""
    _, schema, _ = table
    encoder = make_encoder(schema)
    if encoder is None:
        return
    codes = {a: np.arange(n) for a, n in zip(encoder.domain, encoder.domain.shape, strict=True)}
    width = max(encoder.domain.shape)
    codes = {a: np.resize(c, width) for a, c in codes.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfDomainWarning)
        back = encoder.encode(encoder.decode(codes, rng=0))
    for a in encoder.domain:
        np.testing.assert_array_equal(back[a], codes[a])
