import numpy as np
from scipy.spatial.distance import cdist

from audits.disclosure import neighbours
from audits.disclosure.encoding import Encoded
from audits.disclosure.neighbours import gower_distances, nearest


def _numeric(values):
    values = np.asarray(values, dtype=float)
    return Encoded(values, np.zeros((len(values), 0)))


def test_distance_adds_manhattan_and_mismatch_counts():
    a = Encoded(np.array([[0.0, 1.0]]), np.array([[1.0, 2.0, 3.0]]))
    b = Encoded(np.array([[0.5, 1.0], [0.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [1.0, 2.0, 3.0]]))
    assert gower_distances(a, b).tolist() == [[0.5 + 2.0, 1.0]]


def test_nearest_matches_a_full_sort(monkeypatch):
    monkeypatch.setattr(neighbours, "_BLOCK", 7)  # several blocks
    rng = np.random.default_rng(0)
    rows, queries = rng.random((40, 5)), rng.random((23, 5))
    distances, indices = nearest(_numeric(queries), _numeric(rows), 4)
    full = cdist(queries, rows, "cityblock")
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :4])
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), distances)


def test_k_equal_to_the_number_of_rows_sorts_them_all():
    distances, indices = nearest(_numeric([[0.0]]), _numeric([[2.0], [0.0], [1.0]]), 3)
    assert indices[0].tolist() == [1, 2, 0] and distances[0].tolist() == [0.0, 1.0, 2.0]
