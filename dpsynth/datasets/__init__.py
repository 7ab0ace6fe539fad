"""Built-in datasets: the UCI Adult census extract (CC BY 4.0).

The raw files ship inside the package (see ``data/adult/ATTRIBUTION.md``);
nothing is downloaded.
"""

from dpsynth.datasets.adult import ADULT_COLUMNS, adult_path, adult_schema, load_adult

__all__ = ["ADULT_COLUMNS", "adult_path", "adult_schema", "load_adult"]
