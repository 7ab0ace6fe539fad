"""The human report of a release: one self-contained HTML file, and its JSON twin.

Entry points: :func:`render_report` (HTML) and :func:`write_report_json`
(JSON); both take a *release record*, check it against
:data:`RECORD_SCHEMA` and write atomically. The HTML embeds its plots as PNG
data URIs, loads nothing from outside and runs no script. Every section has a
stable ``id``: ``signing`` (what the signer must check, from the record),
``guarantee``, ``spend``, ``budget``, ``schema``, ``utility``, ``fairness``,
``audit`` and ``provenance``.

The release record
------------------
A JSON-compatible dict::

    {
      "format": 1,                               # optional; RECORD_FORMAT
      "title": "Adult, MST at epsilon 1",
      "dataset": {"id": "adult", "fingerprint": "sha256:...", "rows": 32561},
      "method": {"name": "MST", "parameters": {...}},
      "guarantee": {"epsilon": 1.0, "delta": 1e-9, "rho": 0.0198, "mode": "zcdp",
                    "neighbouring_relation": "add/remove one row",
                    "privacy_unit": "one row (one person)"},
      "spend": [{"step": "measure 1-way", "description": "...", "rho": 0.0066,
                 "epsilon": null, "sigma": 12.3}, ...],
      "schema": [{"column": "age", "kind": "integer", "source": "public",
                  "detail": "bounds from the census design"}, ...],
      "utility": UtilityReport.to_dict() or null,          # optional
      "fairness": SliceReport.to_dict() or null,           # optional
      "audit": {...} or null,                              # optional
      "budget": {"dataset_id": "adult", "ledger": "/path/ledger.db",  # optional
                 "lifetime": {"epsilon": 4, "delta": 1e-6, "rho": 0.311, ...},
                 "earlier_releases": 1, "spent_before": 0.0198,
                 "this_release": 0.0198, "in_progress": 0.0,
                 "remaining_after": 0.271, "next_delta": 1e-9,
                 "next_epsilon": 3.6} or null,
      "provenance": {"library": "dpsynth 0.1.0", "versions": {...},
                     "hashes": {...}, "seed": 0, "created": "2026-01-31T12:00:00Z",
                     "ledger_entry": "..."}
    }

``guarantee`` has the keys of the manifest's guarantee, so the manifest's
section can be passed as it is; ``mode`` is ``"zcdp"`` (the default; the
spend is counted in rho) or ``"pure"`` (``rho`` is null, the spend is counted
in epsilon). Each
``spend`` step needs only ``step``; ``description``, ``rho``, ``epsilon``,
``sigma`` and ``delta`` are optional (the manifest's ``spend.steps`` fit
as they are). ``schema[].source`` is
``public``, ``dp`` or ``data`` (:func:`schema_provenance` builds the list from a
:class:`~dpsynth.schema.Schema`). ``utility`` and ``fairness`` must say
``"covered_by_dp": false``. ``budget`` is in rho, the unit that adds up:
``spent_before`` (finished earlier releases), ``this_release``,
``in_progress`` (other runs' open reservations), ``remaining_after`` and
``lowered_by_delta_used`` (rho put out of reach by the delta discovery used,
optional) add up to ``lifetime.rho``; ``next_epsilon`` is the largest epsilon
a next release at ``next_delta`` could have (less if it reserves delta for
discovery). ``provenance`` is rendered key by
key, whatever its keys.

``audit`` is loosely structured: these keys are recognised and shown first,
everything else is rendered as nested tables.

- ``verdict`` (str), ``claimed_epsilon`` (number; defaults to the guarantee's);
- ``epsilon_lower_bound`` (number), ``interval`` ([low, high]),
  ``confidence`` (number in (0, 1)), ``ceiling`` (number: the largest epsilon
  the audit's runs could certify);
- ``attacks``: a list of objects, e.g. ``{"attack": ..., "success": ...,
  "baseline": ...}``, shown as one table;
- ``notes``: a list of strings.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dpsynth.errors import DPSynthError, ParameterError
from dpsynth.io import write_text_atomic
from dpsynth.privacy.accountant import at_most
from dpsynth.schema import Schema

RECORD_FORMAT = 1

#: ids of the report's sections, in order
SECTION_IDS = (
    "signing", "guarantee", "spend", "budget", "schema", "utility", "fairness", "audit", "provenance",
)

_OPTIONAL_NUMBER = {"type": ["number", "null"], "minimum": 0}
_EVALUATION = {
    "type": ["object", "null"],
    "required": ["covered_by_dp"],
    "properties": {"covered_by_dp": {"const": False}},
}

#: JSON Schema of the release record (see the module docstring)
RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dpsynth release record",
    "type": "object",
    "required": ["title", "dataset", "method", "guarantee", "spend", "schema", "provenance"],
    "properties": {
        "format": {"const": RECORD_FORMAT},
        "title": {"type": "string", "minLength": 1},
        "dataset": {
            "type": "object",
            "required": ["id", "fingerprint"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "fingerprint": {"type": "string"},
                "rows": {"type": ["integer", "null"], "minimum": 0},
            },
        },
        "method": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
        },
        "guarantee": {
            "type": "object",
            "required": ["epsilon", "delta", "rho", "neighbouring_relation", "privacy_unit"],
            "properties": {
                "epsilon": {"type": "number", "minimum": 0},
                "delta": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                "rho": {"type": ["number", "null"], "minimum": 0},
                "mode": {"enum": ["zcdp", "pure"]},
                "neighbouring_relation": {"type": "string", "minLength": 1},
                "privacy_unit": {"type": "string", "minLength": 1},
            },
            "if": {"properties": {"mode": {"const": "pure"}}, "required": ["mode"]},
            "else": {"properties": {"rho": {"type": "number"}}},
        },
        "spend": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step"],
                "properties": {
                    "step": {"type": "string"},
                    "description": {"type": "string"},
                    "rho": _OPTIONAL_NUMBER,
                    "epsilon": _OPTIONAL_NUMBER,
                    "sigma": _OPTIONAL_NUMBER,
                    "delta": _OPTIONAL_NUMBER,
                },
            },
        },
        "schema": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["column", "kind", "source"],
                "properties": {
                    "column": {"type": "string"},
                    "kind": {"type": "string"},
                    "source": {"enum": ["public", "dp", "data"]},
                    "detail": {"type": "string"},
                },
            },
        },
        "utility": _EVALUATION,
        "fairness": _EVALUATION,
        "audit": {"type": ["object", "null"]},
        "budget": {
            "type": ["object", "null"],
            "required": ["dataset_id", "lifetime", "spent_before", "this_release", "remaining_after"],
            "properties": {
                "lifetime": {"type": "object", "required": ["rho"]},
                "spent_before": {"type": "number", "minimum": 0},
                "this_release": {"type": "number", "minimum": 0},
                "in_progress": {"type": "number", "minimum": 0},
                "remaining_after": {"type": "number", "minimum": 0},
                "lowered_by_delta_used": {"type": "number", "minimum": 0},
                "next_delta": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "next_epsilon": {"type": "number", "minimum": 0},
                "ledger": {"type": "string"},
            },
        },
        "provenance": {"type": "object"},
    },
}

# a list of plain values longer than this is shortened in the generic rendering
_MAX_LIST = 20

# relative slack when comparing the itemised spend with the guarantee (float sums)
_SPEND_RTOL = 1e-9

#: the detail of a column whose kind was read from a CSV's values
KIND_FROM_DATA_DETAIL = "kind read from the CSV's values, acknowledged as public"
#: the detail of a column whose kind DP decided from the forms of a CSV's values
KIND_BY_DP_DETAIL = "kind decided with DP from the forms of the CSV's values"

_SOURCE_WORDS = {
    "public": "declared from public knowledge (codebook, standard); costs nothing, reveals nothing",
    "dp": "discovered from the data with differential privacy; its cost is in the spend above",
    "data": "READ FROM THE PRIVATE DATA WITHOUT PRIVACY and acknowledged as public by the user; "
    "the guarantee does not cover this knowledge",
}


# ---------------------------------------------------------------------------------------
# The record
# ---------------------------------------------------------------------------------------
def schema_provenance(schema: Schema, decided_kinds: Sequence[str] = ()) -> list[dict[str, str]]:
    """The ``schema`` section of a release record: column, kind and source of each column.

    ``decided_kinds`` names the columns whose kind DP decided (a CSV's, read in memory).
    """
    rows = []
    for c in schema:
        row = {"column": c.name, "kind": c.kind.value, "source": c.source}
        if c.kind_from_data:
            row["detail"] = KIND_FROM_DATA_DETAIL
        elif c.name in decided_kinds:
            row["detail"] = KIND_BY_DP_DETAIL
        rows.append(row)
    return rows


def validate_record(record: Mapping[str, Any]) -> None:
    """Check a release record against :data:`RECORD_SCHEMA` and strict JSON.

    Raises
    ------
    ParameterError
        Listing every problem at once, each with its path in the record.
    """
    from jsonschema import Draft202012Validator

    problems = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(record)'}: {e.message}"
        for e in sorted(Draft202012Validator(RECORD_SCHEMA).iter_errors(record), key=str)
    ]
    if not problems:
        try:
            json.dumps(record, allow_nan=False)
        except (TypeError, ValueError) as exc:
            problems.append(f"(record): not strict JSON ({exc}); convert values with to_dict()")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(
            f"record ({len(problems)} problem(s)) must be a valid release record "
            f"(see dpsynth.release.report):\n{lines}"
        )


def write_report_json(record: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the JSON twin of the report, atomically, after validating the record."""
    validate_record(record)
    write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def render_report(record: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the release report as one self-contained HTML file, atomically.

    Parameters
    ----------
    record : dict
        The release record (see the module docstring); validated first.
    path : str or path-like
        Where to write the HTML. Nothing is written if anything fails.

    Raises
    ------
    ParameterError
        If the record is not a valid release record.
    DPSynthError
        If matplotlib (the ``report`` extra) is not installed.
    """
    validate_record(record)
    write_text_atomic(path, report_html(record))


def report_html(record: Mapping[str, Any]) -> str:
    """The report's HTML text (the record is assumed valid)."""
    try:
        from dpsynth.release import plots
    except ImportError as exc:
        raise DPSynthError(
            f"the HTML report needs matplotlib ({exc}); install it with: pip install 'dpsynth[report]'"
        ) from None
    title = str(record["title"])
    body = "\n".join(
        [
            _header(record),
            _signing(record),
            _guarantee(record),
            _spend(record),
            _budget(record.get("budget")),
            _schema(record),
            _utility(record.get("utility"), plots),
            _fairness(record.get("fairness"), plots),
            _audit(record.get("audit"), record["guarantee"], plots),
            _provenance(record),
        ]
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if 1e4 <= abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(uri: str, alt: str) -> str:
    return f'<figure><img src="{_e(uri)}" alt="{_e(alt)}"></figure>'


def _section(sid: str, heading: str, inner: str) -> str:
    return f'<section id="{sid}">\n<h2>{_e(heading)}</h2>\n{inner}\n</section>'


def _not_covered(notice: str) -> str:
    return f'<p class="warning"><strong>Not covered by the privacy guarantee.</strong> {_e(notice)}</p>'


def _is_plain(value: Any) -> bool:
    """A scalar, or a list of scalars."""
    if isinstance(value, list):
        return all(not isinstance(v, (Mapping, list)) for v in value)
    return not isinstance(value, Mapping)


def _generic(value: Any, depth: int = 0) -> str:
    """Any JSON value as nested HTML (lists of objects become tables)."""
    if isinstance(value, Mapping):
        if not value:
            return "<em>empty</em>"
        if depth >= 2 and all(_is_plain(v) for v in value.values()):
            # a small record deep inside: one line instead of one more nested table
            return " · ".join(
                f"<strong>{_e(k)}</strong> {_generic(v, depth + 1)}" for k, v in value.items()
            )
        rows = "".join(
            f"<tr><th>{_e(k)}</th><td>{_generic(v, depth + 1)}</td></tr>" for k, v in value.items()
        )
        return f'<table class="kv">{rows}</table>'
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            cells = "".join(
                "<tr>" + "".join(f"<td>{_generic(v.get(k), depth + 1)}</td>" for k in keys) + "</tr>"
                for v in value
            )
            head = "".join(f"<th>{_e(k)}</th>" for k in keys)
            return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
        if not value:
            return "<em>none</em>"
        shown = ", ".join(_fmt(v) for v in value[:_MAX_LIST])
        more = f" … ({len(value)} values)" if len(value) > _MAX_LIST else ""
        return _e(shown + more)
    return _e(_fmt(value))


# ---------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------
def _header(record: Mapping[str, Any]) -> str:
    ds, method, g = record["dataset"], record["method"], record["guarantee"]
    rows = f" ({_fmt(ds.get('rows'))} rows)" if ds.get("rows") is not None else ""
    links = " · ".join(f'<a href="#{s}">{s}</a>' for s in SECTION_IDS)
    return (
        f"<header>\n<h1>{_e(record['title'])}</h1>\n"
        f"<p>Dataset <strong>{_e(ds['id'])}</strong>{_e(rows)}, fingerprint "
        f"<code>{_e(ds['fingerprint'])}</code> (the SHA-256 of the private table: internal). Method <strong>{_e(method['name'])}</strong>. "
        f"Guarantee: ε = {_e(_fmt(g['epsilon']))}, δ = {_e(_fmt(g['delta']))}, "
        f"ρ = {_e(_fmt(g['rho']))}.</p>\n<nav>{links}</nav>\n</header>"
    )


def _spend_total(record: Mapping[str, Any]) -> tuple[str, float, float]:
    """The spend's unit symbol, its itemised total and the guarantee's limit."""
    g = record["guarantee"]
    key, sym = ("rho", "ρ") if _mode(g) == "zcdp" else ("epsilon", "ε")
    return sym, math.fsum(float(s.get(key) or 0.0) for s in record["spend"]), float(g[key])


def _within(total: float, limit: float) -> bool:
    return total <= limit * (1 + _SPEND_RTOL) + 1e-15


def _signing(record: Mapping[str, Any]) -> str:
    """What the signer must check, each point with what this release shows, and what to do."""
    sym, total, limit = _spend_total(record)
    items = []
    if _within(total, limit):
        items.append(f"The spend adds up to {sym} = {_fmt(total)}, within the guarantee: yes.")
    else:
        items.append(f"The spend adds up to {sym} = {_fmt(total)}, MORE than the guarantee's "
                     f"{_fmt(limit)}: do not sign.")
    derived = [c["column"] for c in record["schema"] if c["source"] == "data"]
    kinds = [c["column"] for c in record["schema"] if c.get("detail") == KIND_FROM_DATA_DETAIL]
    if derived or kinds:
        items.append("Knowledge read from the private data without DP, not covered by the guarantee: "
                     f"{', '.join(dict.fromkeys(derived + kinds))}. Sign only if it is truly public.")
    else:
        items.append("Every column's categories, bounds and kind are public or discovered with DP.")
    a = record.get("audit")
    if not a:
        items.append("No audit was run: nothing was measured about what actually leaks.")
    else:
        claimed, ceiling = a.get("claimed_epsilon", record["guarantee"]["epsilon"]), a.get("ceiling")
        line = f"Audit verdict: {a.get('verdict', 'none')}."
        if isinstance(ceiling, (int, float)) and isinstance(claimed, (int, float)) and ceiling <= claimed:
            line += " The audit was too small to detect a violation of this claim (see the audit)."
        items.append(line)
    b = record.get("budget")
    if b:
        items.append(f"Lifetime budget of {b['dataset_id']}: ρ = {_fmt(b['remaining_after'])} of "
                     f"{_fmt(b['lifetime']['rho'])} remains after this release.")
    else:
        items.append("No ledger figures: check the lifetime budget with `dpsynth budget show`.")
    flagged = (record.get("fairness") or {}).get("flagged_slices")
    if flagged:
        items.append(f"{flagged} subgroup(s) flagged in the fairness section: decide whether the "
                     "use of the data depends on them.")
    ledger = (b or {}).get("ledger") or "LEDGER"
    items.append(f"`dpsynth verify manifest.json --data synthetic.csv --ledger {ledger}` says "
                 "\u201cverified\u201d (it rechecks the hashes, the spend and the ledger entry).")
    inner = (
        '<p class="warning"><strong>This report is internal.</strong> It holds figures computed from '
        "the real data and a hash of the private table. What may leave the building: "
        "<code>synthetic.csv</code> and <code>manifest.json</code>, nothing else.</p>\n"
        "<p>Check each point below.</p>\n<ol>"
        + "".join(f"<li>{_code_spans(_e(i))}</li>" for i in items)
        + "</ol>\n<p>If anything is off, do not sign and do not share the synthetic table; tell "
        "whoever ran the release. The ledger has already charged this release: deleting its files "
        "does not give the budget back, and releasing again spends more.</p>"
    )
    return _section("signing", "Before you sign", inner)


def _code_spans(escaped: str) -> str:
    """`text` in escaped HTML as <code>text</code> (commands the signer types)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _budget(b: Mapping[str, Any] | None) -> str:
    if not b:
        return _section("budget", "Lifetime budget of the dataset",
                        "<p>No ledger figures were recorded with this report.</p>")
    life = b["lifetime"]
    rows = [
        ("lifetime budget", life["rho"], f"ε = {_fmt(life.get('epsilon'))} at δ = {_fmt(life.get('delta'))}"),
        ("spent by earlier releases", b["spent_before"], f"{b.get('earlier_releases', '–')} release(s)"),
        ("spent by this release", b["this_release"], "the total of the steps above"),
    ]
    if b.get("in_progress"):
        rows.append(("held by runs in progress", b["in_progress"], "charged when they finish"))
    rows.append(("remaining after this release", b["remaining_after"], "what later releases can spend"))
    if b.get("lowered_by_delta_used"):
        rows.append(("out of reach", b["lowered_by_delta_used"],
                     "the part of δ that discovery used lowers what ρ can reach"))
    nxt = ""
    if b.get("next_epsilon") is not None and b.get("next_delta") is not None:
        # rounded down: a figure rounded up would be refused when asked for
        nxt = (f" A next release at δ = {_e(_fmt(b['next_delta']))} could have at most "
               f"ε = {_e(at_most(float(b['next_epsilon']), 4))}, less if it reserves part of δ for discovery.")
        life_epsilon, life_delta = life.get("epsilon"), life.get("delta")
        if (life_epsilon is not None and life_delta and b["next_epsilon"] > life_epsilon
                and b["next_delta"] < life_delta):
            nxt += (" That is more than the lifetime ε because it is stated at a smaller δ: the same ρ "
                    "buys a larger ε when δ is smaller, and ρ is what the ledger adds up.")
    inner = (
        f"<p>Every release of <strong>{_e(b['dataset_id'])}</strong> is charged to one lifetime "
        "budget in the ledger. It is counted in ρ, which adds up across releases: the rows below "
        "add up to the lifetime budget. Epsilons do not add up (two releases at ε = 1 do not "
        "spend ε = 2 under zCDP), so none is summed here." + nxt + "</p>\n"
        + _table(["", "rho (ρ)", "meaning"], rows)
    )
    return _section("budget", "Lifetime budget of the dataset", inner)


def _mode(g: Mapping[str, Any]) -> str:
    return str(g.get("mode", "zcdp" if g.get("rho") is not None else "pure"))


def _unit_phrase(unit: str) -> str:
    """"one row" reads "single row" after "any" (not "any single one row")."""
    unit = str(unit).strip()
    return "single " + unit[4:] if unit.lower().startswith("one ") else "single " + unit


def _guarantee(record: Mapping[str, Any]) -> str:
    g = record["guarantee"]
    eps, delta = float(g["epsilon"]), float(g["delta"])
    factor = math.exp(eps) if eps < 700 else math.inf
    if _mode(g) == "zcdp":
        rho_row = ("rho (ρ)", g["rho"], "the same guarantee in zero-concentrated DP, the unit "
                   "the spend is counted in")
    else:
        rho_row = ("rho (ρ)", "not used", "pure DP: the spend is counted in ε directly")
    inner = (
        f'<p class="plain">Whether or not the data of any '
        f'<strong>{_e(_unit_phrase(g["privacy_unit"]))}</strong> is in the input, the chance of producing any '
        f"particular synthetic table changes by at most a factor of "
        f"<strong>e<sup>ε</sup> = {_e(_fmt(factor, 3))}</strong>, except with a probability of at "
        f"most <strong>δ = {_e(_fmt(delta))}</strong>. Two inputs count as neighbours when they "
        f"differ by <strong>{_e(g['neighbouring_relation'])}</strong>.</p>\n"
        + _table(
            ["quantity", "value", "meaning"],
            [
                ("epsilon (ε)", eps, "privacy loss bound; smaller is more private"),
                ("delta (δ)", delta, "probability that the ε bound may fail"),
                rho_row,
                ("neighbouring relation", g["neighbouring_relation"], "what 'one unit of data' changes"),
                ("privacy unit", g["privacy_unit"], "who is protected"),
            ],
        )
        + "\n<p>The guarantee covers the synthetic table and everything derived from it alone. "
        "It does <strong>not</strong> cover the utility and fairness figures below, which are "
        "computed from the real data for this review only.</p>"
    )
    return _section("guarantee", "The privacy guarantee", inner)


def _spend(record: Mapping[str, Any]) -> str:
    spend, g = record["spend"], record["guarantee"]
    key = "rho" if _mode(g) == "zcdp" else "epsilon"
    rows = [
        (s["step"], s.get("description", ""), s.get("rho"), s.get("epsilon"), s.get("sigma"))
        for s in spend
    ]
    sym, total, budget = _spend_total(record)
    rows.append(("total", "", total, None, None) if key == "rho" else ("total", "", None, total, None))
    if _within(total, budget):
        check = (
            f'<p class="ok">The steps add up to {sym} = {_e(_fmt(total))}, within the '
            f"guarantee's {sym} = {_e(_fmt(budget))}.</p>"
        )
    else:
        check = (
            f'<p class="warning">The steps add up to {sym} = {_e(_fmt(total))}, MORE than the '
            f"guarantee's {sym} = {_e(_fmt(budget))}: the guarantee as stated does not hold.</p>"
        )
    unit_words = (
        "ρ (zero-concentrated DP, which adds up across steps)"
        if key == "rho"
        else "ε (pure DP, which adds up across steps)"
    )
    inner = (
        f"<p>Every use of the private data that could influence the output, each charged in "
        f"{unit_words}.</p>\n"
        + check
        + "\n<h3>By kind of step</h3>\n"
        + _table(["step", "times", f"total {key}"], _spend_by_kind(spend, key))
        + "\n<h3>Every step</h3>\n"
        + _table(["step", "description", "rho (ρ)", "epsilon (ε)", "noise sigma"], rows, cls="spend")
    )
    return _section("spend", "Privacy budget spent, step by step", inner)


def _spend_by_kind(spend: Sequence[Mapping[str, Any]], key: str) -> list[tuple[str, int, float]]:
    """Steps of the same name added up, in order of first appearance."""
    totals: dict[str, list[float]] = {}
    for s in spend:
        totals.setdefault(s["step"], []).append(float(s.get(key) or 0.0))
    return [(name, len(v), math.fsum(v)) for name, v in totals.items()]


def _schema(record: Mapping[str, Any]) -> str:
    cols = record["schema"]
    rows = [(c["column"], c["kind"], c["source"], c.get("detail", "")) for c in cols]
    sources = sorted({c["source"] for c in cols})
    legend = "".join(f"<li><strong>{_e(s)}</strong>: {_e(_SOURCE_WORDS[s])}</li>" for s in sources)
    derived = [c["column"] for c in cols if c["source"] == "data"]
    kinds = [c["column"] for c in cols if c.get("detail") == KIND_FROM_DATA_DETAIL]
    warn = ""
    if derived:
        warn = (
            '<p class="warning">The categories or bounds of '
            f"{_e(', '.join(derived))} were read from the private data without privacy. "
            "The guarantee does not cover what they reveal.</p>"
        )
    if kinds:
        warn += (
            '\n<p class="warning">The kinds of '
            f"{_e(', '.join(kinds))} were read from the values of a CSV file, which declares no "
            "types (one value can turn a column of numbers into text, or add a missing value). "
            "The guarantee does not cover what they reveal.</p>"
        )
    inner = (
        "<p>Where the knowledge about each column (its categories, bounds and bins, and its kind "
        "when a CSV file gave it) came from.</p>\n"
        f"<ul>{legend}</ul>\n{warn}\n" + _table(["column", "kind", "source", "detail"], rows)
    )
    return _section("schema", "Schema provenance", inner)


def _utility(u: Mapping[str, Any] | None, plots: Any) -> str:
    if not u:
        return _section("utility", "Utility", "<p>No utility evaluation was run.</p>")
    parts = [_not_covered(u.get("notice", ""))]
    rows = u.get("rows", {})
    parts.append(
        f"<p>Compared {_e(_fmt(rows.get('synthetic')))} synthetic rows with "
        f"{_e(_fmt(rows.get('real')))} real training rows"
        + (f" and {_e(_fmt(rows['holdout']))} real holdout rows" if rows.get("holdout") else "")
        + ".</p>"
    )
    m = u.get("marginals", {})
    tvd_rows = [
        (label, m.get(key, {}).get("count"), m.get(key, {}).get("mean"), m.get(key, {}).get("max"))
        for key, label in (("one_way", "1-way"), ("two_way", "2-way"), ("three_way", "3-way (sampled)"))
    ]
    parts.append(
        "<h3>Marginals</h3><p>Total-variation distance (TVD) between the real and synthetic "
        "distributions of single columns, pairs and triples: the share of rows that would have "
        "to change to make them equal (0 is perfect, 1 is nothing in common).</p>"
        + _table(["marginals", "count", "mean TVD", "worst TVD"], tvd_rows)
    )
    worst = sorted(
        (i for i in m.get("items", []) if len(i["columns"]) == 2), key=lambda i: -i["tvd"]
    )[:10]
    if worst:
        parts.append(
            "<p>The ten pairs of columns reproduced worst:</p>"
            + _table(["columns", "TVD"], [(" × ".join(i["columns"]), i["tvd"]) for i in worst])
        )
    dists = u.get("distributions", {})
    ones = sorted(
        (i for i in m.get("items", []) if len(i["columns"]) == 1 and i["columns"][0] in dists),
        key=lambda i: -i["tvd"],
    )[:4]
    if ones:
        parts.append("<p>The columns reproduced worst, real against synthetic:</p>")
        parts.append(
            '<div class="grid">'
            + "".join(
                _img(
                    plots.marginal_plot(c, dists[c]["labels"], dists[c]["real"], dists[c]["synthetic"]),
                    f"distribution of {c}, real and synthetic",
                )
                for c in (i["columns"][0] for i in ones)
            )
            + "</div>"
        )
    parts.append(_correlations(u.get("correlations"), plots))
    numeric = u.get("numeric") or []
    if numeric:
        parts.append(
            "<h3>Numeric columns</h3><p>Wasserstein distance as a share of the public range "
            "(how far, on average, values moved) and the Kolmogorov-Smirnov statistic (the "
            "largest gap between the two cumulative distributions).</p>"
            + _table(
                ["column", "Wasserstein / range", "KS statistic", "real mean", "synthetic mean",
                 "real missing", "synthetic missing"],
                [
                    (n["column"], n["wasserstein"], n["ks_statistic"], n.get("real_mean"),
                     n.get("synthetic_mean"), n.get("real_missing"), n.get("synthetic_missing"))
                    for n in numeric
                ],
            )
        )
    parts.append(_downstream(u.get("downstream"), plots))
    notes = u.get("notes") or []
    if notes:
        parts.append("<ul class=\"notes\">" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return _section("utility", "Utility (real data: not covered by the guarantee)", "\n".join(parts))


def _correlations(c: Mapping[str, Any] | None, plots: Any) -> str:
    if not c:
        return ""
    a = c.get("association", {})
    parts = ["<h3>Associations between columns</h3>"]
    if a.get("columns"):
        parts.append(
            "<p>Cramér's V of every pair of columns (0: unrelated, 1: one determines the "
            f"other). Largest difference {_e(_fmt(a.get('max_abs_diff')))}, mean "
            f"{_e(_fmt(a.get('mean_abs_diff')))}.</p>"
        )
        parts.append(
            _img(
                plots.heatmap_pair(a["columns"], a["real"], a["synthetic"], "Cramér's V"),
                "Cramér's V heatmaps: real, synthetic, difference",
            )
        )
    p, s = c.get("pearson", {}), c.get("spearman", {})
    if len(c.get("numeric_columns", [])) >= 2:
        parts.append(
            "<p>Correlations of the numeric columns: largest absolute difference "
            f"Pearson {_e(_fmt(p.get('max_abs_diff')))}, Spearman {_e(_fmt(s.get('max_abs_diff')))}.</p>"
        )
    return "\n".join(parts)


_MODEL_WORDS = {
    "train_real": "trained on the real data (reference)",
    "train_synthetic": "trained on the synthetic data",
    "dp_baseline": "DP model trained on the real data at the same ε (the honest alternative)",
}


def _downstream(d: Mapping[str, Any] | None, plots: Any) -> str:
    if not d:
        return ""
    scores = d.get("scores", {})
    models = list(scores)
    rows = [
        (m, _MODEL_WORDS.get(m, ""), s.get("accuracy"), s.get("auc"), s.get("brier"), s.get("ece"),
         d.get("n_train", {}).get(m))
        for m, s in scores.items()
    ]
    text = (
        f"<h3>Downstream task: predicting {_e(d.get('target'))}</h3>"
        "<p>Models tested on the real holdout. Higher accuracy and AUC are better; lower Brier "
        "score and expected calibration error (ECE) are better. If the DP model beats the model "
        "trained on synthetic data, a DP model is the better release for this task.</p>"
        + _table(["model", "what", "accuracy", "AUC", "Brier", "ECE", "training rows"], rows)
    )
    if models:
        metrics = {
            "accuracy": [scores[m].get("accuracy") for m in models],
            "AUC": [scores[m].get("auc") for m in models],
        }
        text += _img(plots.downstream_plot(models, metrics), "downstream accuracy and AUC per model")
    text += _versus_dp(scores)
    if d.get("dp_epsilon") is not None:
        text += (
            f"<p>DP baseline: ε = {_e(_fmt(d['dp_epsilon']))}, public row-norm bound "
            f"{_e(_fmt(d.get('dp_data_norm')))}. It is trained for this comparison only, never "
            "released.</p>"
        )
    return text


def _versus_dp(scores: Mapping[str, Any]) -> str:
    """One sentence: does the synthetic data beat the DP model on this task?"""
    synth, dp = scores.get("train_synthetic"), scores.get("dp_baseline")
    if not synth or not dp:
        return ""
    for key, name in (("auc", "AUC"), ("accuracy", "accuracy")):
        x, y = synth.get(key), dp.get(key)
        if x is not None and y is not None:
            verdict = "better than" if x > y else "no better than"
            return (
                f"<p><strong>On this task the synthetic data is {verdict} a DP model trained at "
                f"the same budget</strong> ({name} {_e(_fmt(x))} against {_e(_fmt(y))}).</p>"
            )
    return ""


def _fairness(f: Mapping[str, Any] | None, plots: Any) -> str:
    if not f:
        return _section("fairness", "Fairness", "<p>No fairness evaluation was run.</p>")
    parts = [_not_covered(f.get("notice", ""))]
    rule = f.get("rule", {})
    if rule.get("text"):
        parts.append(f'<p class="rule"><strong>Rule.</strong> {_e(rule["text"])}</p>')
    slices = f.get("slices", [])
    flagged = [s for s in slices if s.get("flags")]
    parts.append(
        f"<p><strong>{len(flagged)}</strong> of {len(slices)} subgroups flagged; "
        f"<strong>{_e(f.get('flagged_rare_classes', 0))}</strong> rare classes not preserved.</p>"
    )
    overall = f.get("overall", {})
    if overall:
        parts.append(
            "<p>The whole table, for comparison (the other columns of each grouping column):</p>"
            + _table(
                ["grouping column", "2-way TVD", "sampling TVD", "excess", "accuracy gap",
                 "fidelity flag above"],
                [
                    (column, v.get("tvd_2way"), v.get("tvd_2way_sampling"), v.get("excess_2way"),
                     v.get("accuracy_gap"), _fidelity_threshold(v.get("excess_2way"), rule))
                    for column, v in overall.items()
                ],
            )
        )
    if slices:
        parts.append(
            _table(
                ["column", "value", "real rows", "synthetic rows", "real share", "synthetic share",
                 "2-way TVD", "sampling TVD", "excess", "accuracy gap", "flags"],
                [
                    (s["column"], s["value"], s["n_real"], s["n_synthetic"], s["share_real"],
                     s["share_synthetic"], s.get("tvd_2way"), s.get("tvd_2way_sampling"),
                     s.get("excess_2way"), s.get("accuracy_gap"),
                     ", ".join(s.get("flags", [])) or ("–" if s.get("judged") else "too small to judge"))
                    for s in slices
                ],
                cls="slices",
            )
        )
        figures = []
        for column, whole in overall.items():
            mine = [s for s in slices if s["column"] == column]
            if mine:
                figures.append(
                    _img(
                        plots.slice_plot(
                            [f"{column} = {s['value']}" for s in mine],
                            [s.get("excess_2way") for s in mine],
                            ["fidelity" in s.get("flags", []) for s in mine],
                            _fidelity_threshold(whole.get("excess_2way"), rule),
                        ),
                        f"excess 2-way TVD per subgroup of {column}",
                    )
                )
        parts.append('<div class="grid">' + "".join(figures) + "</div>")
    rare = sorted(f.get("rare_classes", []), key=lambda r: -r["relative_error"])
    bad = [r for r in rare if r.get("flagged")]
    if rare:
        shown = bad[:25] if bad else rare[:10]
        caption = (
            "Rare classes whose frequency was not preserved"
            if bad
            else "No rare class was flagged; the largest errors"
        )
        parts.append(
            f"<h3>{_e(caption)}</h3>"
            + _table(
                ["column", "value", "real rows", "real frequency", "synthetic frequency",
                 "relative error"],
                [
                    (r["column"], r["value"], r["real_count"], r["real_frequency"],
                     r["synthetic_frequency"], r["relative_error"])
                    for r in shown
                ],
            )
        )
    return _section("fairness", "Fairness and subgroups (real data: not covered by the guarantee)",
                    "\n".join(parts))


def _fidelity_threshold(overall_excess: float | None, rule: Mapping[str, Any]) -> float | None:
    """The excess 2-way TVD above which a judged subgroup is flagged (see slices)."""
    if overall_excess is None or rule.get("ratio") is None:
        return None
    base = max(float(overall_excess), 0.0)
    return max(rule["ratio"] * base, base + rule.get("floor", 0.0))


#: what the audit section says when it holds the release-risk attacks (mode B)
RELEASE_RISK_NOTICE = (
    "The release-risk attacks (mode B) score real training and holdout rows, without noise: "
    "keep their figures internal. The manifest carries mode A only (the distinguishing game, "
    "run on released synthetic rows)."
)
#: what the provenance section says of the table's fingerprint
FINGERPRINT_NOTICE = (
    "The dataset fingerprint and the input hash are the SHA-256 of the private table: someone "
    "who knows every row but one can test each candidate for the last against them. Keep them "
    "internal, as the manifest does."
)
_AUDIT_KEYS = ("verdict", "claimed_epsilon", "epsilon_lower_bound", "interval", "confidence",
               "ceiling", "attacks", "notes")


def _audit(a: Mapping[str, Any] | None, guarantee: Mapping[str, Any], plots: Any) -> str:
    if not a:
        return _section("audit", "Privacy audit", "<p>No audit was run.</p>")
    claimed = a.get("claimed_epsilon", guarantee["epsilon"])
    lower, interval, ceiling = a.get("epsilon_lower_bound"), a.get("interval"), a.get("ceiling")
    parts = []
    if a.get("verdict") is not None:
        parts.append(f'<p class="verdict">Verdict: <strong>{_e(a["verdict"])}</strong></p>')
    parts.append(
        "<p>An audit attacks the release to measure, with evidence, how much it leaks. Its "
        "empirical lower bound on ε must stay below the claimed ε; the ceiling is the largest ε "
        "its number of runs could ever certify, so a bound near the ceiling says the audit was too "
        "small to tell more.</p>"
    )
    numbers = [
        ("claimed epsilon", claimed),
        ("empirical epsilon lower bound", lower),
        ("interval", None if interval is None else " – ".join(_fmt(x) for x in interval)),
        ("confidence", a.get("confidence")),
        ("ceiling", ceiling),
    ]
    parts.append(_table(["quantity", "value"], [r for r in numbers if r[1] is not None]))
    numeric = isinstance(claimed, (int, float)) and all(
        v is None or isinstance(v, (int, float)) for v in (lower, ceiling)
    )
    if numeric and ceiling is not None and float(ceiling) <= float(claimed):
        parts.append(
            f'<p class="warning"><strong>This audit could not have detected a violation.</strong> '
            f"With its number of runs no lower bound above ε = {_e(_fmt(ceiling))} was possible, "
            f"and the claim is ε = {_e(_fmt(claimed))}: its verdict says nothing about whether the "
            "claim holds. Run a larger audit (<code>--audit full</code>) before relying on it.</p>"
        )
    if numeric and (lower is not None or ceiling is not None):
        span = interval if isinstance(interval, list) and len(interval) == 2 else None
        parts.append(
            _img(plots.epsilon_plot(float(claimed), lower, span, ceiling),
                 "claimed epsilon against the empirical lower bound")
        )
    if a.get("attacks") or a.get("release_risk"):
        parts.append(_not_covered(RELEASE_RISK_NOTICE))
    if a.get("attacks"):
        parts.append(
            '<h3>Attacks: success against baseline</h3><div class="scroll">'
            + _generic(a["attacks"])
            + "</div>"
        )
    # The game's own caveats (e.g. too few runs to detect a violation) sit in its nested
    # output: shown here with the others, not only in the folded raw output.
    game = a.get("mechanism_verification")
    game_notes = game.get("notes") if isinstance(game, Mapping) else None
    notes = list(dict.fromkeys([*(a.get("notes") or []), *(game_notes or [])]))
    if notes:
        parts.append("<ul class=\"notes\">" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    rest = {k: v for k, v in a.items() if k not in _AUDIT_KEYS}
    if rest:
        # raw output for the expert, folded away from the non-expert reader (no script needed)
        parts.append(
            "<details><summary>Full audit output (also in the JSON twin)</summary>"
            f'<div class="scroll">{_generic(rest)}</div></details>'
        )
    return _section("audit", "Privacy audit", "\n".join(parts))


def _provenance(record: Mapping[str, Any]) -> str:
    p = dict(record["provenance"])
    method = record["method"]
    inner = (
        "<p>What produced this release, to reproduce or verify it.</p>"
        + _not_covered(FINGERPRINT_NOTICE)
        + _generic({"method": method.get("name"), "parameters": method.get("parameters", {}), **p})
    )
    return _section("provenance", "Provenance", inner)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;
background:#f6f6f4;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem;background:#fff}
header h1{margin:0 0 .4rem;font-size:1.7rem}
nav{margin:.6rem 0;font-size:.9rem}nav a{color:#2a5db0}
section{border-top:2px solid #e4e4e0;padding-top:.6rem;margin-top:1.4rem}
h2{font-size:1.3rem;margin:.3rem 0 .6rem}h3{font-size:1.05rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;margin:.4rem 0 .8rem;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f0f0ec}table.kv th{background:#f7f7f4;font-weight:600}
td{font-variant-numeric:tabular-nums}
.warning{background:#fff3f0;border-left:4px solid #c44e52;padding:.5rem .8rem}
.ok{background:#f0f8f1;border-left:4px solid #55a868;padding:.5rem .8rem}
.plain{font-size:1.05rem}.verdict{font-size:1.15rem}
.rule{background:#f4f6fb;border-left:4px solid #4c72b0;padding:.5rem .8rem}
figure{margin:.4rem 0}img{max-width:100%;height:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:.6rem}
code{font-size:.85rem;word-break:break-all}
.scroll{overflow-x:auto;max-width:100%}td{overflow-wrap:break-word}
table.spend td:nth-child(n+3){white-space:nowrap}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
"""
