"""make_imputer: build any imputer of the package from its short name."""

from ._factor import FactorAnalysisImputer
from ._knn import NearestNeighborsImputer
from ._missforest import MissForestImputer
from ._miwae import MIWAEImputer
from ._pca import PCAImputer
from ._simple import MeanImputer
from ._stacking import StackingImputer

# name -> (class, {parameter: the values the name allows, its default first})
_IMPUTERS = {
    "miwae": (MIWAEImputer, {}),
    "mvae": (MIWAEImputer, {"K": (1,)}),
    "not-miwae": (
        MIWAEImputer,
        {
            "missingness": (
                "self-masking",
                "self-masking-high",
                "self-masking-low",
                "logistic",
            )
        },
    ),
    "mean": (MeanImputer, {}),
    "knn": (NearestNeighborsImputer, {}),
    "pca": (PCAImputer, {}),
    "factor-analysis": (FactorAnalysisImputer, {}),
    "ppca": (FactorAnalysisImputer, {"noise": ("isotropic",)}),
    "missforest": (MissForestImputer, {}),
    "stacking": (StackingImputer, {}),
}


def make_imputer(name, **params):
    """Build an imputer of the package from its short name.

    Parameters
    ----------
    name : {"miwae", "mvae", "not-miwae", "mean", "knn", "pca", \
            "factor-analysis", "ppca", "missforest", "stacking"}
        The method: :class:`MIWAEImputer`; the MVAE, i.e. :class:`MIWAEImputer`
        with ``K=1`` (the VAE bound); not-MIWAE, i.e. :class:`MIWAEImputer`
        with ``missingness="self-masking"`` (values missing not at random;
        it also takes the other not-MIWAE models, not "ignorable");
        :class:`MeanImputer`; :class:`NearestNeighborsImputer`; :class:`PCAImputer`;
        :class:`FactorAnalysisImputer`, and probabilistic PCA, i.e.
        :class:`FactorAnalysisImputer` with ``noise="isotropic"``;
        :class:`MissForestImputer`;
        :class:`StackingImputer`, by default MIWAE and missForest blended per
        feature.
    **params : dict
        Parameters of the imputer's constructor.

    Returns
    -------
    imputer : estimator
        The unfitted imputer.

    Examples
    --------
    >>> from miwae_impute import make_imputer
    >>> make_imputer("knn", n_neighbors=5)
    NearestNeighborsImputer(n_neighbors=5)
    >>> make_imputer("mvae").K
    1
    """
    if not isinstance(name, str) or name not in _IMPUTERS:
        raise ValueError(
            f"Unknown imputer {name!r}; valid names are {sorted(_IMPUTERS)}."
        )
    cls, allowed = _IMPUTERS[name]
    for key, values in allowed.items():
        if params.setdefault(key, values[0]) not in values:
            valid = f"={values[0]!r}" if len(values) == 1 else f" in {values}"
            raise ValueError(
                f"The {name!r} imputer has {key}{valid}, got {key}={params[key]!r}."
            )
    return cls(**params)
