import doctest

import dpsynth.pgm


def test_package_example_runs_as_documented():
    result = doctest.testmod(dpsynth.pgm, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_public_names_resolve():
    for name in dpsynth.pgm.__all__:
        assert getattr(dpsynth.pgm, name) is not None
