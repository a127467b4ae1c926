"""scikit-learn's estimator checks for MIWAEImputer."""

from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from miwae_impute import MIWAEImputer


def _cheap_miwae():
    return MIWAEImputer(hidden_layer_sizes=(8,), max_iter=3, L=20, K=4, random_state=0)


def _cheap_not_miwae():
    return _cheap_miwae().set_params(missingness="self-masking")


@parametrize_with_checks([_cheap_miwae(), _cheap_not_miwae()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_set_output_and_feature_name_checks():
    for check in (
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_global_output_transform_pandas,
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
    ):
        check("MIWAEImputer", _cheap_miwae())
        check("MIWAEImputer", _cheap_not_miwae())
