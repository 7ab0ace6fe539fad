"""The pinned scientific stack imports together (diffprivlib breaks on scikit-learn 1.9)."""

import importlib

import pytest


@pytest.mark.parametrize("module", ["diffprivlib", "opendp.prelude", "networkx", "scipy.stats"])
def test_core_dependency_imports(module):
    importlib.import_module(module)


def test_diffprivlib_models_work_with_installed_scikit_learn():
    import numpy as np
    from diffprivlib.models import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(200, 2))
    y = (x[:, 0] > 0.5).astype(int)
    model = LogisticRegression(epsilon=10.0, data_norm=1.5, random_state=0).fit(x, y)
    assert model.predict(x).shape == (200,)
