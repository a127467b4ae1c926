"""Scikit-learn compatible imputation of missing values with MIWAE and baselines."""

from ._batched import fit_side_by_side
from ._compare import compare_imputers, summarize_comparison
from ._factor import FactorAnalysisImputer
from ._knn import NearestNeighborsImputer
from ._missforest import MissForestImputer
from ._miwae import MIWAEImputer
from ._pca import PCAImputer
from ._persistence import ModelFileError
from ._pooling import MultipleImputationEstimator
from ._registry import make_imputer
from ._simple import MeanImputer
from ._stacking import StackingImputer
from ._version import __version__ as __version__
from .metrics import imputation_mse, masked_mse_scorer

__all__ = [
    "MIWAEImputer",
    "MeanImputer",
    "MissForestImputer",
    "ModelFileError",
    "MultipleImputationEstimator",
    "NearestNeighborsImputer",
    "PCAImputer",
    "FactorAnalysisImputer",
    "StackingImputer",
    "compare_imputers",
    "fit_side_by_side",
    "imputation_mse",
    "make_imputer",
    "masked_mse_scorer",
    "summarize_comparison",
]
