"""The release manifest: what was released, under which guarantee, from what.

One JSON document per release. It is validated against the JSON Schema that
ships beside this module (``manifest.schema.json``), and
:func:`verify_manifest` re-checks a released file against it: the hash of the
synthetic output, that the itemised spend adds up to the guarantee, and
(given the ledger) that the ledger holds the entry.

The manifest may leave the building with the synthetic table, so it holds
only public or differentially private values: no hash of the private table
(a party who knows every row but one could test each candidate for the last
row against it), no figure computed from real rows. The ledger entry it names
binds it to the registered table.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jsonschema

from dpsynth._version import __version__
from dpsynth.errors import DPSynthError, Problem
from dpsynth.schema import Schema

MANIFEST_VERSION = 2

#: relative tolerance when adding up floating-point spends
SPEND_RTOL = 1e-9

#: the key, among the parameters of a ledger row, of the digest of the release's manifest
MANIFEST_DIGEST_KEY = "manifest_sha256"

_DEPENDENCIES = ("numpy", "pandas", "scipy", "networkx", "opendp", "scikit-learn", "diffprivlib")


class ManifestError(DPSynthError, ValueError):
    """A manifest is malformed, or a release does not match its manifest."""

    exit_code = 7


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of release manifests, as shipped in the package."""
    text = resources.files("dpsynth.release").joinpath("manifest.schema.json").read_text("utf-8")
    return json.loads(text)


def file_sha256(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """Hex SHA-256 of a manifest's content, whatever its indentation or key order.

    The release job records it in the ledger row, so that ``verify`` detects a
    change to any field of ``manifest.json``.
    """
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of dpsynth, Python and the dependencies that shape the output."""
    versions = {"dpsynth": __version__, "python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def schema_section(schema: Schema, acknowledged_public: bool) -> dict[str, Any]:
    """The manifest's schema section: the schema and where each part came from."""
    provenance: dict[str, list[str]] = {"public": [], "dp": [], "data": []}
    for spec in schema:
        provenance[spec.source].append(spec.name)
    # Kinds read from a CSV's values: known from the data, whatever the source of the domain.
    kinds = [spec.name for spec in schema if spec.kind_from_data]
    if kinds:
        provenance["kind_from_data"] = kinds
    return {**schema.to_dict(), "provenance": provenance, "acknowledged_public": acknowledged_public}


@dataclass(frozen=True)
class Guarantee:
    """The privacy guarantee of a release, in all its units.

    Parameters
    ----------
    epsilon, delta : float
        The (epsilon, delta)-DP guarantee.
    rho : float or None
        The zCDP guarantee (None in pure-DP mode).
    mode : str
        ``"zcdp"`` or ``"pure"``.
    neighbouring_relation : str
        E.g. ``"add/remove one row"``.
    privacy_unit : str
        What one protected unit is, e.g. ``"one row"``.
    """

    epsilon: float
    delta: float
    rho: float | None
    mode: str = "zcdp"
    neighbouring_relation: str = "add/remove one row"
    privacy_unit: str = "one row"

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": self.rho,
            "mode": self.mode,
            "neighbouring_relation": self.neighbouring_relation,
            "privacy_unit": self.privacy_unit,
        }


@dataclass
class ManifestInputs:
    """Everything a manifest records, as plain values (see :func:`build_manifest`)."""

    dataset_id: str
    schema: Schema
    acknowledged_public: bool
    method: str
    parameters: Mapping[str, Any]
    guarantee: Guarantee
    spend_steps: Sequence[Mapping[str, Any]]
    spend_total: Mapping[str, Any]
    output_file: str | os.PathLike[str]
    output_rows: int
    output_columns: Sequence[str]
    seed: int | None = None
    ledger_path: str | None = None
    ledger_entry_id: str | None = None
    audit: Mapping[str, Any] | None = None
    source: str | None = None
    release_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def build_manifest(inputs: ManifestInputs) -> dict[str, Any]:
    """Assemble and validate the manifest of one release.

    Parameters
    ----------
    inputs : ManifestInputs
        The release's facts. ``output_file`` must already hold the synthetic
        output: its hash is taken here.

    Returns
    -------
    dict
        A manifest valid against :func:`manifest_json_schema`.
    """
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "release_id": inputs.release_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": {"id": inputs.dataset_id, "source": inputs.source},
        "schema": schema_section(inputs.schema, inputs.acknowledged_public),
        "method": {"name": inputs.method, "parameters": _jsonable(dict(inputs.parameters))},
        "guarantee": inputs.guarantee.to_dict(),
        "spend": {"steps": _jsonable(list(inputs.spend_steps)), "total": _jsonable(dict(inputs.spend_total))},
        "ledger": (
            {"path": inputs.ledger_path, "entry_id": inputs.ledger_entry_id}
            if inputs.ledger_entry_id is not None
            else None
        ),
        "seed": inputs.seed,
        "software": software_versions(),
        "output": {
            "file": Path(inputs.output_file).name,
            "sha256": file_sha256(inputs.output_file),
            "rows": int(inputs.output_rows),
            "columns": [str(c) for c in inputs.output_columns],
        },
        "audit": _jsonable(dict(inputs.audit)) if inputs.audit is not None else None,
    }
    validate_manifest(manifest)
    return manifest


def validate_manifest(manifest: Mapping[str, Any]) -> None:
    """Raise :class:`ManifestError` listing every schema violation of ``manifest``."""
    if isinstance(manifest, Mapping) and manifest.get("manifest_version") == 1:
        raise ManifestError(
            "this is a version 1 manifest, written by an earlier dpsynth: it holds the SHA-256 of the private "
            "table, which must not be published; keep it inside, verify it with the dpsynth "
            "version that wrote it, and release again for a manifest that can be shared"
        )
    validator = jsonschema.Draft202012Validator(manifest_json_schema())
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]
        raise ManifestError("the manifest does not match its JSON Schema:\n  - " + "\n  - ".join(lines))


def load_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a manifest file."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {os.fspath(path)!r}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest {os.fspath(path)!r} is not valid JSON: {exc}") from None
    validate_manifest(manifest)
    return manifest


def verify_manifest(
    manifest: Mapping[str, Any],
    data_path: str | os.PathLike[str] | None = None,
    *,
    ledger_entry: Callable[[str, str], Mapping[str, Any] | None] | None = None,
    epsilon_of_rho: Callable[[float, float], float] | None = None,
) -> list[Problem]:
    """Check a release against its manifest.

    Parameters
    ----------
    manifest : mapping
        A manifest (validated against the JSON Schema first).
    data_path : path, optional
        The released synthetic file; its SHA-256 must match ``output.sha256``,
        and its header and number of records ``output.columns`` and
        ``output.rows``.
    ledger_entry : callable, optional
        ``(dataset_id, entry_id) -> row or None``
        (:meth:`dpsynth.privacy.ledger.Ledger.entry`); when given, the ledger
        must hold the release named in the manifest, with the same output
        hash, the same spend (rho or epsilon, and delta), the same method and
        parameters and the same dpsynth version; and, when the row records
        the manifest's digest (:func:`manifest_digest`), the same manifest.
    epsilon_of_rho : callable, optional
        ``(rho, delta) -> epsilon``; when given, the guarantee's epsilon must be
        the conversion of its rho.

    Returns
    -------
    list of Problem
        Empty when everything checks out.
    """
    try:
        validate_manifest(manifest)
    except ManifestError as exc:
        return [Problem(None, str(exc), "regenerate the manifest")]
    problems: list[Problem] = []
    if data_path is not None:
        actual = file_sha256(data_path)
        if actual != manifest["output"]["sha256"]:
            problems.append(
                Problem(
                    None,
                    f"the data file's SHA-256 ({actual[:16]}...) differs from the manifest's "
                    f"({manifest['output']['sha256'][:16]}...): the file was changed after release",
                    "use the file that was released with this manifest",
                )
            )
        problems.extend(_shape_problems(manifest, data_path))
    problems.extend(_spend_problems(manifest, epsilon_of_rho))
    if ledger_entry is not None:
        problems.extend(_ledger_problems(manifest, ledger_entry))
    return problems


def table_shape(path: str | os.PathLike[str]) -> tuple[list[str], int]:
    """Column names and number of records of a CSV (optionally gzipped) or Parquet file.

    A CSV is streamed with the :mod:`csv` module (quoted line breaks stay inside
    their record); a Parquet file's footer is read, not its data.
    """
    name = os.fspath(path).lower()
    if name.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path)
        return list(meta.schema_arrow.names), int(meta.metadata.num_rows)
    import csv
    import gzip

    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        rows = sum(1 for _ in reader)
    return header, rows


def _shape_problems(manifest: Mapping[str, Any], data_path: str | os.PathLike[str]) -> list[Problem]:
    """The released file must have the columns and the number of rows the manifest states."""
    output = manifest["output"]
    try:
        columns, rows = table_shape(data_path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [Problem(None, f"cannot read the data file {os.fspath(data_path)!r}: {exc}",
                        "use the file that was released with this manifest")]
    fix = "the manifest does not describe this file; do not sign it"
    problems = []
    if rows != output["rows"]:
        problems.append(
            Problem(None, f"the data file has {rows} rows, the manifest states {output['rows']}", fix)
        )
    if columns != list(output["columns"]):
        problems.append(
            Problem(
                None,
                f"the data file's columns ({', '.join(columns)}) differ from the manifest's "
                f"({', '.join(output['columns'])})",
                fix,
            )
        )
    return problems


def _ledger_problems(
    manifest: Mapping[str, Any], ledger_entry: Callable[[str, str], Mapping[str, Any] | None]
) -> list[Problem]:
    """The release as the ledger recorded it must be the release the manifest describes."""
    ledger, dataset = manifest.get("ledger"), manifest["dataset"]
    if ledger is None:
        return [Problem(None, "the manifest names no ledger entry", "release through a ledger")]
    row = ledger_entry(dataset["id"], ledger["entry_id"])
    if row is None:
        return [
            Problem(
                None,
                f"the ledger has no entry {ledger['entry_id']!r} for dataset {dataset['id']!r}",
                "check that this is the ledger the release was charged to",
            )
        ]
    fix = "the manifest and the ledger disagree: do not sign the release; ask who changed either"
    problems = []
    if row.get("kind", "release") != "release":
        problems.append(Problem(None, f"ledger entry {ledger['entry_id']!r} is not a release", fix))
    if row.get("output_hash") != manifest["output"]["sha256"]:
        problems.append(Problem(None, "the ledger recorded another output file (SHA-256 differs)", fix))
    unit = "rho" if manifest["guarantee"]["mode"] == "zcdp" else "epsilon"
    spent, recorded = row.get(unit), manifest["spend"]["total"].get(unit)
    if spent is None or recorded is None or not math.isclose(float(spent), float(recorded), rel_tol=SPEND_RTOL):
        problems.append(
            Problem(None, f"the ledger charged {unit} = {spent!r}, the manifest states {recorded!r}", fix)
        )
    delta, stated = row.get("delta"), manifest["spend"]["total"].get("delta")
    if delta is not None and (stated is None or not math.isclose(float(delta), float(stated), rel_tol=SPEND_RTOL)):
        problems.append(
            Problem(None, f"the ledger charged delta = {delta!r}, the manifest states {stated!r}", fix)
        )
    recorded_params = dict(row.get("parameters") or {})
    digest = recorded_params.pop(MANIFEST_DIGEST_KEY, None)
    if digest is not None and digest != manifest_digest(manifest):
        problems.append(
            Problem(
                None,
                "the manifest was changed after release: its content differs from the one the "
                "ledger recorded (SHA-256)",
                "use the manifest.json written with this release; do not sign an edited copy",
            )
        )
    method = manifest["method"]
    if "mechanism" in row and row["mechanism"] != method["name"]:
        problems.append(
            Problem(None, f"the ledger recorded method {row['mechanism']!r}, the manifest states "
                    f"{method['name']!r}", fix)
        )
    if "parameters" in row and _canonical(recorded_params) != _canonical(method.get("parameters", {})):
        stated_params = method.get("parameters", {})
        differ = sorted(
            k for k in set(recorded_params) | set(stated_params)
            if _canonical(recorded_params.get(k)) != _canonical(stated_params.get(k))
        )
        problems.append(
            Problem(None, f"the ledger recorded other values of the method parameters {', '.join(differ)}", fix)
        )
    version = row.get("library_version")
    if version is not None and version != manifest["software"].get("dpsynth"):
        problems.append(
            Problem(None, f"the ledger recorded dpsynth {version}, the manifest states "
                    f"{manifest['software'].get('dpsynth')}", fix)
        )
    return problems


def _canonical(value: Any) -> str:
    """A JSON text that compares equal for equal values, whatever the key order."""
    return json.dumps(value, sort_keys=True)


def _spend_problems(
    manifest: Mapping[str, Any], epsilon_of_rho: Callable[[float, float], float] | None
) -> list[Problem]:
    guarantee, spend = manifest["guarantee"], manifest["spend"]
    problems = []
    unit = "rho" if guarantee["mode"] == "zcdp" else "epsilon"
    steps_total = math.fsum(float(s.get(unit) or 0.0) for s in spend["steps"])
    recorded = spend["total"].get(unit)
    if recorded is None or not math.isclose(steps_total, float(recorded), rel_tol=SPEND_RTOL, abs_tol=1e-15):
        problems.append(
            Problem(
                None,
                f"the itemised steps add up to {unit} = {steps_total!r} but the total says {recorded!r}",
                "the manifest is inconsistent; do not sign it",
            )
        )
    limit = guarantee[unit]
    if limit is not None and steps_total > float(limit) * (1 + SPEND_RTOL):
        problems.append(
            Problem(
                None,
                f"the spend ({unit} = {steps_total!r}) exceeds the guarantee ({unit} = {limit!r})",
                "the release overspent its budget; do not sign it",
            )
        )
    if epsilon_of_rho is not None and guarantee["mode"] == "zcdp" and guarantee["rho"] is not None:
        expected = epsilon_of_rho(float(guarantee["rho"]), float(guarantee["delta"]))
        if not math.isclose(expected, float(guarantee["epsilon"]), rel_tol=1e-6):
            problems.append(
                Problem(
                    None,
                    f"rho = {guarantee['rho']!r} at delta = {guarantee['delta']!r} converts to "
                    f"epsilon = {expected!r}, not the stated {guarantee['epsilon']!r}",
                    "the guarantee is inconsistent; do not sign it",
                )
            )
    return problems


def _jsonable(value: Any) -> Any:
    """Plain JSON types from numpy scalars, tuples and paths; refuses anything else."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ManifestError(f"cannot record a value of type {type(value).__name__} in the manifest")
