"""audits: attack synthetic data and measure, with confidence, how much leaks.

Standalone: depends on numpy, pandas, scipy and scikit-learn, never on
dpsynth. What it audits is any callable ``fit_sample(real_df) -> synthetic_df``.
"""

__version__ = "0.1.0"
