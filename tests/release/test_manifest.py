import copy
import json

import pandas as pd
import pytest

from dpsynth.datasets import adult_schema
from dpsynth.release.manifest import (
    Guarantee,
    ManifestError,
    ManifestInputs,
    build_manifest,
    load_manifest,
    manifest_digest,
    manifest_json_schema,
    table_shape,
    verify_manifest,
)


@pytest.fixture
def released(tmp_path):
    data = tmp_path / "synthetic.csv"
    pd.DataFrame({"age": [30, 41], "sex": ["Male", "Female"]}).to_csv(data, index=False)
    inputs = ManifestInputs(
        dataset_id="adult",
        schema=adult_schema(),
        acknowledged_public=False,
        method="mst",
        parameters={"epsilon": 1.0, "delta": 1e-9, "compress": True},
        guarantee=Guarantee(epsilon=1.0, delta=1e-9, rho=0.25),
        spend_steps=[
            {"step": "measure one-way marginals", "rho": 0.125},
            {"step": "select pairs", "rho": 0.0625},
            {"step": "measure pairs", "rho": 0.0625},
        ],
        spend_total={"rho": 0.25, "epsilon": 1.0, "delta": 1e-9},
        output_file=data,
        output_rows=2,
        output_columns=["age", "sex"],
        seed=3,
        ledger_path="ledger.db",
        ledger_entry_id="e1",
    )
    return build_manifest(inputs), data


def test_manifest_is_valid_and_records_provenance(released, tmp_path):
    manifest, _ = released
    assert manifest["schema"]["provenance"]["public"][0] == "age"
    assert manifest["schema"]["provenance"]["data"] == []
    assert set(manifest["dataset"]) == {"id", "source"}  # no hash of the private table
    assert manifest["software"]["opendp"].startswith("0.16")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert load_manifest(path) == manifest


def test_verify_passes_on_the_released_file(released):
    manifest, data = released
    row = {"kind": "release", "output_hash": manifest["output"]["sha256"], "rho": manifest["spend"]["total"]["rho"]}
    assert verify_manifest(manifest, data, ledger_entry=lambda d, e: row if (d, e) == ("adult", "e1") else None) == []
    # the ledger recorded another output or another spend: each is named
    for change, words in (({"output_hash": "0" * 64}, "another output file"),
                          ({"rho": 2 * row["rho"]}, "the ledger charged rho")):
        problems = verify_manifest(manifest, data, ledger_entry=lambda d, e, c=change: {**row, **c})
        assert len(problems) == 1 and words in str(problems[0]), change


def test_verify_detects_a_tampered_file(released):
    manifest, data = released
    data.write_text(data.read_text().replace("41", "42"))
    (problem,) = verify_manifest(manifest, data)
    assert "changed after release" in problem.message


def test_verify_detects_rows_and_columns_the_file_does_not_have(released):
    # Neither is covered by the file's hash: the hash is of the file, the counts are the manifest's.
    manifest, data = released
    assert verify_manifest(manifest, data) == []
    for field, value, words in (("rows", 100, "has 2 rows, the manifest states 100"),
                                ("columns", ["age"], "columns (age, sex) differ")):
        bad = copy.deepcopy(manifest)
        bad["output"][field] = value
        (problem,) = verify_manifest(bad, data)
        assert words in problem.message and "do not sign" in problem.fix


def test_table_shape_reads_quoted_line_breaks_and_parquet(tmp_path):
    frame = pd.DataFrame({"a": ["one\ntwo", "three"], "b": [1, 2]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    assert table_shape(tmp_path / "t.csv") == (["a", "b"], 2)
    assert table_shape(tmp_path / "t.parquet") == (["a", "b"], 2)


def test_verify_binds_method_parameters_delta_and_version_to_the_ledger(released):
    manifest, data = released
    row = {
        "kind": "release", "output_hash": manifest["output"]["sha256"], "rho": 0.25, "delta": 1e-9,
        "mechanism": "mst", "parameters": {"compress": True, "delta": 1e-9, "epsilon": 1.0},
        "library_version": manifest["software"]["dpsynth"],
    }
    assert verify_manifest(manifest, data, ledger_entry=lambda d, e: row) == []
    for field, value, words in (
        (("method", "name"), "aim", "the ledger recorded method 'mst', the manifest states 'aim'"),
        (("method", "parameters"), {"epsilon": 0.1, "delta": 1e-9, "compress": True},
         "other values of the method parameters epsilon"),
        (("spend", "total"), {"rho": 0.25, "epsilon": 1.0, "delta": 1e-12},
         "the ledger charged delta = 1e-09, the manifest states 1e-12"),
        (("software", "dpsynth"), "9.9", "the manifest states 9.9"),
    ):
        bad = copy.deepcopy(manifest)
        bad[field[0]][field[1]] = value
        (problem,) = verify_manifest(bad, data, ledger_entry=lambda d, e: row)
        assert words in problem.message, field


def test_a_ledger_row_with_the_manifests_digest_binds_every_field(released):
    manifest, data = released
    row = {"kind": "release", "output_hash": manifest["output"]["sha256"], "rho": 0.25,
           "parameters": {**manifest["method"]["parameters"], "manifest_sha256": manifest_digest(manifest)}}
    # the digest is of the content: key order and indentation do not change it
    assert manifest_digest(json.loads(json.dumps(manifest, indent=2))) == manifest_digest(manifest)
    assert verify_manifest(manifest, data, ledger_entry=lambda d, e: row) == []
    bad = copy.deepcopy(manifest)
    bad["schema"]["acknowledged_public"] = True
    (problem,) = verify_manifest(bad, data, ledger_entry=lambda d, e: row)
    assert "the manifest was changed after release" in problem.message


def test_verify_detects_spend_that_does_not_add_up(released):
    manifest, data = released
    bad = copy.deepcopy(manifest)
    bad["spend"]["steps"][0]["rho"] = 0.2
    messages = [p.message for p in verify_manifest(bad, data)]
    assert any("add up to rho" in m for m in messages)
    assert any("exceeds the guarantee" in m for m in messages)


def test_verify_checks_the_ledger_and_the_conversion(released):
    manifest, data = released
    problems = verify_manifest(manifest, data, ledger_entry=lambda d, e: None, epsilon_of_rho=lambda r, d: 2.0)
    messages = " | ".join(p.message for p in problems)
    assert "no entry 'e1'" in messages
    assert "converts to epsilon = 2.0" in messages


def test_schema_violations_are_listed(released):
    manifest, _ = released
    bad = copy.deepcopy(manifest)
    del bad["guarantee"]["delta"]
    bad["output"]["sha256"] = "xyz"
    with pytest.raises(ManifestError) as info:
        load_manifest_from(bad)
    assert "guarantee" in str(info.value) and "output/sha256" in str(info.value)


def load_manifest_from(manifest):
    from dpsynth.release.manifest import validate_manifest

    validate_manifest(manifest)


def test_shipped_json_schema_is_itself_valid():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(manifest_json_schema())


def test_a_version_1_manifest_is_refused_with_why_and_what_to_do(released, tmp_path):
    manifest, _ = released
    old = {**copy.deepcopy(manifest), "manifest_version": 1}
    old["dataset"]["fingerprint"] = "sha256:" + "ab" * 32
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    with pytest.raises(ManifestError, match="SHA-256 of the private table.*release again"):
        load_manifest(path)
