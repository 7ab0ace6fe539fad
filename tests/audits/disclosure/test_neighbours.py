import numpy as np
from scipy.spatial.distance import cdist

from audits.disclosure import neighbours
from audits.disclosure.neighbours import nearest


def test_nearest_matches_a_full_sort(monkeypatch):
    monkeypatch.setattr(neighbours, "_BLOCK", 7)  # several blocks
    rng = np.random.default_rng(0)
    rows, queries = rng.random((40, 5)), rng.random((23, 5))
    distances, indices = nearest(queries, rows, 4)
    full = cdist(queries, rows, "cityblock")
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :4])
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), distances)


def test_exclude_self_skips_the_row_but_not_its_duplicates():
    rows = np.array([[0.0], [0.0], [3.0]])
    distances, indices = nearest(rows, rows, 2, exclude_self=True)
    assert indices[0].tolist() == [1, 2] and distances[0].tolist() == [0.0, 3.0]
    assert indices[2].tolist() == [0, 1]


def test_k_equal_to_the_number_of_rows_sorts_them_all():
    rows = np.array([[2.0], [0.0], [1.0]])
    distances, indices = nearest(np.array([[0.0]]), rows, 3)
    assert indices[0].tolist() == [1, 2, 0] and distances[0].tolist() == [0.0, 1.0, 2.0]
