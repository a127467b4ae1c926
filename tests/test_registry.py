import pytest

import miwae_impute
from miwae_impute import (
    FactorAnalysisImputer,
    MeanImputer,
    MissForestImputer,
    MIWAEImputer,
    NearestNeighborsImputer,
    PCAImputer,
    make_imputer,
)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("miwae", MIWAEImputer),
        ("mvae", MIWAEImputer),
        ("not-miwae", MIWAEImputer),
        ("mean", MeanImputer),
        ("knn", NearestNeighborsImputer),
        ("pca", PCAImputer),
        ("factor-analysis", FactorAnalysisImputer),
        ("ppca", FactorAnalysisImputer),
        ("missforest", MissForestImputer),
    ],
)
def test_names_build_their_class(name, cls):
    imputer = make_imputer(name)
    assert type(imputer) is cls
    assert make_imputer(name) is not imputer


def test_params_are_passed_on():
    assert make_imputer("knn", n_neighbors=7).n_neighbors == 7
    assert make_imputer("miwae", K=5, L=10).get_params()["K"] == 5


def test_mvae_is_miwae_with_one_importance_sample():
    assert make_imputer("mvae").K == 1
    assert make_imputer("miwae").K > 1
    assert make_imputer("mvae", K=1, L=10).L == 10
    with pytest.raises(ValueError, match="'mvae' imputer has K=1"):
        make_imputer("mvae", K=5)


@pytest.mark.parametrize("name", ["MIWAE", "forest", None])
def test_unknown_name_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match="valid names are .*'missforest'"):
        make_imputer(name)


def test_public_names():
    for name in miwae_impute.__all__:
        assert hasattr(miwae_impute, name)
    assert {"make_imputer", "imputation_mse", "masked_mse_scorer"} <= set(
        miwae_impute.__all__
    )


def test_not_miwae_is_miwae_with_a_self_masking_model():
    assert make_imputer("not-miwae").missingness == "self-masking"
    assert make_imputer("miwae").missingness == "ignorable"
    high = make_imputer("not-miwae", missingness="self-masking-high")
    assert high.missingness == "self-masking-high"
    with pytest.raises(ValueError, match="'not-miwae' imputer has missingness in"):
        make_imputer("not-miwae", missingness="ignorable")


def test_ppca_is_factor_analysis_with_isotropic_noise():
    assert make_imputer("factor-analysis").noise == "diagonal"
    assert make_imputer("ppca").noise == "isotropic"
    with pytest.raises(ValueError, match="'ppca' imputer has noise='isotropic'"):
        make_imputer("ppca", noise="diagonal")
