# The scratch wrapper that made the rows of paper-v15-decoder-elu,
# mnar-v15-above-decoder-elu and mnar-v15-below-decoder-elu (issue 25,
# 2026-12-07, twenty-third session), kept as a record: before the pair API of
# 8045720 it gave not-MIWAE a tanh encoder and an ELU decoder. Run from the
# repository root with PYTHONPATH=. as `python THIS run uci ... --param
# not-miwae.activation=elu`: the model is built with ELU units in both
# networks, then its encoder is built again with tanh units. So its encoder
# starts from other random weights than `activation=("tanh", "elu")` gives
# (that builds the tanh encoder first): the same model, other draws.
import sys

from miwae_impute import _model

_init = _model.MIWAE.__init__


def init(self, n_features, latent_dim, hidden, activation="tanh", *a, **k):
    _init(self, n_features, latent_dim, hidden, activation, *a, **k)
    if activation in ("elu", ("elu", "elu")):  # a str before 8045720, a pair after
        self.encoder = _model._mlp(
            self.likelihood.input_width, hidden, self.posterior.width, "tanh"
        )


_model.MIWAE.__init__ = init
from benchmarks.__main__ import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
