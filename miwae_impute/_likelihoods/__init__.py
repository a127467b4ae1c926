"""The decoder's likelihoods p(x_j | z): one class per family of columns.

The decoder of :class:`~miwae_impute._model.MIWAE` outputs the parameters of
``p(x | z) = prod_j p(x_j | z)``. Columns of the same family form a group, and
each group reads its own slice of the decoder output, so that a family is one
vectorised call. Every family has the same small protocol, in the spirit of
``torch.distributions``; ``out`` is its slice of the decoder output, of shape
``(..., n_params * n_columns)``:

- ``log_prob(x, out, columns=None)``: elementwise log density of the
  columns' values, of ``columns`` alone if given;
- ``mean(out)`` and ``second_moment(out)``: E[x_j | z] and E[x_j^2 | z], which
  self-normalised importance sampling averages into the imputation and its
  variance;
- ``sample(out, generator, row_dim)``: one draw of x_j ~ p(x_j | z), for
  sampling-importance-resampling;
- ``candidates(out, generator, row_dim)``: one draw of x_j ~ p(x_j | z) with
  its discrete part summed out, as candidate values and their log
  probabilities, each of shape ``(c, ..., n_columns)``: a Student-t draw (c =
  1), the mass point and a Student-t draw (c = 2), or every value of a
  discrete column. not-MIWAE weighs them by p(s_j | x_j) (see ``_model``);
- ``encoder_input(x, mask)``: what the encoder sees of the columns (``x``
  itself, zero-imputed, except for :class:`Categorical`, whose levels it sees
  one-hot), ``input_width`` values a row.

:class:`Categorical` also gives ``probabilities(out)``, p(x_j = c | z) of
every level, which importance sampling averages into p(x_j = c | x_o).

:class:`ProductLikelihood` composes the groups into p(x | z) over all columns.
"""

from ._discrete import Categorical, Discrete
from ._product import ProductLikelihood, make_likelihood
from ._student_t import (
    PointMassStudentT,
    StudentT,
    student_t_log_prob,
    student_t_rsample,
    student_t_variance,
)

__all__ = [
    "Categorical",
    "Discrete",
    "PointMassStudentT",
    "ProductLikelihood",
    "StudentT",
    "make_likelihood",
    "student_t_log_prob",
    "student_t_rsample",
    "student_t_variance",
]
