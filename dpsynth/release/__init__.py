"""Release: the main job, the manifest, utility and fairness figures, the HTML report.

Utility and fairness figures are computed from the real data: they are NOT
covered by the differential-privacy guarantee and are not for release.
"""

from dpsynth.release.job import ReleaseRequest, ReleaseResult, run_release
from dpsynth.release.manifest import (
    Guarantee,
    ManifestError,
    build_manifest,
    load_manifest,
    manifest_json_schema,
    verify_manifest,
)
from dpsynth.release.report import (
    RECORD_SCHEMA,
    render_report,
    schema_provenance,
    validate_record,
    write_report_json,
)
from dpsynth.release.slices import SliceReport, SliceRule, evaluate_slices
from dpsynth.release.utility import (
    NOT_COVERED_NOTICE,
    DownstreamPredictions,
    UtilityReport,
    evaluate_utility,
    fit_downstream,
)

__all__ = [
    "NOT_COVERED_NOTICE",
    "RECORD_SCHEMA",
    "DownstreamPredictions",
    "Guarantee",
    "ManifestError",
    "ReleaseRequest",
    "ReleaseResult",
    "SliceReport",
    "SliceRule",
    "UtilityReport",
    "build_manifest",
    "evaluate_slices",
    "evaluate_utility",
    "fit_downstream",
    "load_manifest",
    "manifest_json_schema",
    "render_report",
    "run_release",
    "schema_provenance",
    "validate_record",
    "verify_manifest",
    "write_report_json",
]
