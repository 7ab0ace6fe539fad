"""The UCI Adult dataset and its public codebook schema."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from dpsynth.errors import parameter_error
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

#: column names as documented in ``adult.names``, in file order
ADULT_COLUMNS: tuple[str, ...] = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)

_INTEGER_COLUMNS = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
_FILES = {"train": "adult.data.gz", "test": "adult.test.gz"}

# Category lists copied from the codebook ``adult.names`` (public knowledge).
_CODEBOOK_CATEGORIES: dict[str, tuple[str, ...]] = {
    "workclass": ("Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov",
                  "State-gov", "Without-pay", "Never-worked"),
    "education": ("Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Assoc-acdm",
                  "Assoc-voc", "9th", "7th-8th", "12th", "Masters", "1st-4th", "10th",
                  "Doctorate", "5th-6th", "Preschool"),
    "marital-status": ("Married-civ-spouse", "Divorced", "Never-married", "Separated", "Widowed",
                       "Married-spouse-absent", "Married-AF-spouse"),
    "occupation": ("Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
                   "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical",
                   "Farming-fishing", "Transport-moving", "Priv-house-serv", "Protective-serv",
                   "Armed-Forces"),
    "relationship": ("Wife", "Own-child", "Husband", "Not-in-family", "Other-relative", "Unmarried"),
    "race": ("White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"),
    "sex": ("Female", "Male"),
    "native-country": ("United-States", "Cambodia", "England", "Puerto-Rico", "Canada", "Germany",
                       "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece", "South", "China",
                       "Cuba", "Iran", "Honduras", "Philippines", "Italy", "Poland", "Jamaica",
                       "Vietnam", "Mexico", "Portugal", "Ireland", "France", "Dominican-Republic",
                       "Laos", "Ecuador", "Taiwan", "Haiti", "Columbia", "Hungary", "Guatemala",
                       "Nicaragua", "Scotland", "Thailand", "Yugoslavia", "El-Salvador",
                       "Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands"),
    "income": ("<=50K", ">50K"),
}

# Bounds from the census design, not from the data: working-age adults, a
# sampling weight below 1.5 million, education coded 1..16, capital amounts
# top-coded at 99,999 (gain) and below 5,000 (loss), at most 99 hours a week.
_PUBLIC_BOUNDS: dict[str, tuple[int, int, int]] = {
    # column: (lower, upper, bins)
    "age": (17, 90, 16),
    "fnlwgt": (0, 1_500_000, 16),
    "education-num": (1, 16, 16),
    "capital-gain": (0, 99_999, 16),
    "capital-loss": (0, 4_999, 16),
    "hours-per-week": (1, 99, 16),
}
_NULLABLE = ("workclass", "occupation", "native-country")


def adult_path(split: str = "train") -> Path:
    """Path of the shipped raw file of ``split`` (``"train"`` or ``"test"``)."""
    if split not in _FILES:
        raise parameter_error("split", split, "'train' or 'test'")
    return Path(str(resources.files("dpsynth.datasets") / "data" / "adult" / _FILES[split]))


def load_adult(split: str = "train") -> pd.DataFrame:
    """Load the built-in UCI Adult data.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"`` is ``adult.data`` (32,561 rows), ``"test"`` is ``adult.test``
        (16,281 rows).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ADULT_COLUMNS`; the six numeric columns as
        ``int64``, the others as pandas ``string`` with missing values (``?`` in
        the raw file) as ``<NA>``. The test file's labels lose their trailing
        ``.`` so both splits share the categories ``<=50K`` and ``>50K``.
    """
    path = adult_path(split)
    df = pd.read_csv(
        path,
        header=None,
        names=list(ADULT_COLUMNS),
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        comment="|",  # the test file opens with a "|1x3 Cross validator" line
        skip_blank_lines=True,
        dtype={c: "int64" for c in _INTEGER_COLUMNS},
    )
    for col in ADULT_COLUMNS:
        if col not in _INTEGER_COLUMNS:
            df[col] = df[col].astype("string")
    df["income"] = df["income"].str.rstrip(".")
    return df


def adult_schema() -> Schema:
    """The public schema of Adult, from its codebook ``adult.names``.

    Categories come from the codebook and bounds from the census design, so
    using this schema spends no privacy budget and leaks nothing.
    """
    specs = []
    for col in ADULT_COLUMNS:
        if col in _PUBLIC_BOUNDS:
            lo, hi, bins = _PUBLIC_BOUNDS[col]
            specs.append(ColumnSpec(col, ColumnKind.INTEGER, lower=lo, upper=hi, bins=bins, dtype="int64"))
        else:
            specs.append(
                ColumnSpec(
                    col,
                    ColumnKind.CATEGORICAL,
                    categories=_CODEBOOK_CATEGORIES[col],
                    nullable=col in _NULLABLE,
                    dtype="string",
                )
            )
    return Schema(tuple(specs))
