"""Scikit-learn compatible imputation of missing values with MIWAE."""

from ._miwae import MIWAEImputer

__all__ = ["MIWAEImputer"]
__version__ = "0.1.0"
