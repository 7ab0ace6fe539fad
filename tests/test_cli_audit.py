import json

import numpy as np
import pandas as pd

from dpsynth.cli import main


def _table(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"sex": rng.choice(["F", "M"], n), "age": rng.integers(18, 81, n)})


def test_audit_release_writes_json_with_every_risk(tmp_path):
    paths = {}
    for name, seed in (("train", 0), ("holdout", 1), ("synthetic", 2)):
        paths[name] = tmp_path / f"{name}.csv"
        _table(300, seed).to_csv(paths[name], index=False)
    out = tmp_path / "risk.json"
    args = ["audit", "release", "--train", str(paths["train"]), "--holdout", str(paths["holdout"])]
    assert main([*args, "--synthetic", str(paths["synthetic"]), "--attacks", "60", "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    for key in ("membership", "attribute_inference", "singling_out", "linkability"):
        assert key in result


def test_audit_mechanism_reports_a_verdict_and_ceiling(tmp_path, capsys):
    data = tmp_path / "bg.csv"
    _table(20, 3).to_csv(data, index=False)
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "columns": [
                    {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
                    {"name": "age", "kind": "integer", "lower": 18, "upper": 80, "bins": 4},
                ]
            }
        )
    )
    out = tmp_path / "mech.json"
    args = ["audit", "mechanism", "--method", "independent", "--epsilon", "1", "--schema", str(schema)]
    assert main([*args, "--data", str(data), "--runs", "10", "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["verdict"] in ("violation detected", "no violation detected at this power")
    assert result["runs_per_world"] == 10
    assert "could certify" in capsys.readouterr().err
