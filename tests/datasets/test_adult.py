import pandas as pd
import pytest

from dpsynth.datasets import ADULT_COLUMNS, adult_path, adult_schema, load_adult
from dpsynth.errors import ParameterError


@pytest.fixture(scope="module")
def train():
    return load_adult("train")


@pytest.fixture(scope="module")
def test_split():
    return load_adult("test")


def test_train_has_documented_shape_and_columns(train):
    assert train.shape == (32561, 15)
    assert tuple(train.columns) == ADULT_COLUMNS


def test_test_split_skips_header_and_strips_label_dots(test_split):
    assert test_split.shape == (16281, 15)
    assert set(test_split["income"].unique()) == {"<=50K", ">50K"}


def test_missing_values_are_na_not_question_marks(train):
    assert train["workclass"].isna().sum() == 1836
    assert train["occupation"].isna().sum() == 1843
    assert train["native-country"].isna().sum() == 583
    for col in train.columns:
        if train[col].dtype == "string":
            assert not (train[col] == "?").any()
            assert not train[col].dropna().str.startswith(" ").any()


def test_dtypes(train):
    assert train["age"].dtype == "int64"
    assert train["capital-gain"].dtype == "int64"
    assert isinstance(train["sex"].dtype, pd.StringDtype)


def test_public_schema_accepts_both_splits(train, test_split):
    schema = adult_schema()
    assert schema.check_frame(train) == []
    assert schema.check_frame(test_split) == []
    assert schema.data_derived_columns == ()
    assert schema.incomplete_columns == ()


def test_attribution_ships_with_the_data():
    text = (adult_path("train").parent / "ATTRIBUTION.md").read_text()
    assert "CC BY 4.0" in text
    assert (adult_path("train").parent / "adult.names").exists()


def test_unknown_split_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match=r"split \('validation'\) must be 'train' or 'test'"):
        load_adult("validation")
