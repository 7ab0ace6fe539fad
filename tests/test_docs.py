"""The user guide's examples run as written.

Each test runs the code blocks of one page of ``README.md`` or ``docs/`` in a
scratch folder, with only the names the page assumes its reader has (a table
``df``, a file ``patients.csv``) defined first. Pages whose examples need data
the reader brings (a synthesizer of their own, a cluster) are not run here.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from dpsynth.cli import main
from dpsynth.datasets import adult_schema, load_adult

ROOT = Path(__file__).resolve().parent.parent


def _blocks(page: str, language: str) -> list[str]:
    """The fenced code blocks of ``page`` (relative to the repository) in ``language``, in order."""
    fence = re.compile(r"^\s*```(\w*)\s*$")
    blocks: list[str] = []
    inside, wanted, lines = False, False, []
    for line in (ROOT / page).read_text(encoding="utf-8").splitlines(keepends=True):
        match = fence.match(line)
        if match and not inside:
            inside, wanted, lines = True, match.group(1) == language, []
        elif match:
            if wanted:
                blocks.append("".join(lines))
            inside = False
        elif inside:
            lines.append(line)
    return blocks


def _run(code: str, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out-of-domain counts of Adult's codebook schema
        exec(compile(code, "<doc>", "exec"), namespace)
    return namespace


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_library_example_runs(scratch):
    (code,) = _blocks("README.md", "python")
    ns = _run(code)
    assert list(ns["synthetic"].columns) == list(ns["df"].columns)
    assert ns["synth"].privacy_report()["spent"]["epsilon"] == pytest.approx(1.0)


def test_getting_started_examples_run(scratch):
    load_adult("train").head(2000).to_csv("patients.csv", index=False)
    first, second = _blocks("docs/getting-started.md", "python")
    assert _run(first)["problems"] == []
    _run(second)
    written = json.loads(Path("schema.json").read_text())
    assert [c["name"] for c in written["columns"]] == list(load_adult().columns)


def test_getting_started_error_is_the_one_printed(scratch, capsys):
    (quoted,) = [b for b in _blocks("docs/getting-started.md", "") if b.startswith("dpsynth: error:")]
    df = load_adult("train").head(500)
    df["age"] = df["age"].astype(object)
    df.loc[0, "age"] = "forty"
    df.loc[1:3, "sex"] = None
    df.to_csv("data.csv", index=False)
    adult_schema().to_json("schema.json")
    assert main(["synthesize", "data.csv", "--schema", "schema.json", "-o", "synth.csv"]) != 0
    assert capsys.readouterr().err == quoted
    assert not Path("synth.csv").exists()


def test_schema_examples_run(scratch):
    from dpsynth import Schema
    from dpsynth.errors import NonPublicSchemaError

    (written,) = _blocks("docs/schema.md", "json")
    assert Schema.from_json(written).names == ("age", "sex", "occupation", "admitted", "smoker")
    proposing, encoding = _blocks("docs/schema.md", "python")
    with pytest.raises(NonPublicSchemaError, match="15 problems in the schema"):
        _run(proposing, {"df": load_adult()})
    ns = _run(encoding)
    assert ns["encoder"].code_of("sex", "Male") == 1
    assert ns["encoder"].code_labels("workclass")[-1] == "<missing>"
    np.testing.assert_array_equal(ns["encoder"].bin_edges("age")[[0, 1, -1]], [16.5, 20.5, 90.5])
    assert list(ns["df"].dtypes) == list(load_adult().dtypes)


def test_synthesizers_life_cycle_example_runs(scratch):
    code = _blocks("docs/synthesizers.md", "python")[0]
    ns = _run(code)
    assert len(ns["more"]) == 100_000
    assert (ns["rare"]["income"] == ">50K").all()
    assert ns["again"].sample(10, random_state=1).equals(ns["synth"].sample(10, random_state=1))


def test_privacy_accountant_example_runs():
    code = _blocks("docs/privacy.md", "python")[0]
    ns = _run(code, {"counts": np.array([3, 5, 8, 13])})
    (step,) = ns["acc"].report()["steps"]
    # the page quotes this step's sigma and rho
    assert step["sigma"] == 14.33 and round(step["rho"], 6) == 0.002435
