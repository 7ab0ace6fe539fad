"""Release risk (mode B): how much does this particular synthetic table disclose?

:func:`run_release_audit` attacks one release with membership inference,
attribute inference, singling out and linkability, each measured on training
records against the same attack on holdout records and a naive baseline, with
confidence intervals. See ``docs/audits-release-risk.md``.
"""

from audits.disclosure.attribute import AttributeInferenceResult
from audits.disclosure.audit import (
    ATTACKS,
    ATTRIBUTE_METHODS,
    ReleaseAuditResult,
    run_release_audit,
)
from audits.disclosure.linkability import LinkabilityResult
from audits.disclosure.membership import MembershipResult, MembershipScore
from audits.disclosure.singling_out import SinglingOutResult
from audits.disclosure.stats import Advantage, Rate, RiskEstimate

__all__ = [
    "ATTACKS",
    "ATTRIBUTE_METHODS",
    "Advantage",
    "AttributeInferenceResult",
    "LinkabilityResult",
    "MembershipResult",
    "MembershipScore",
    "Rate",
    "ReleaseAuditResult",
    "RiskEstimate",
    "SinglingOutResult",
    "run_release_audit",
]
