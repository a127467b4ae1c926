"""The MIWAE model in torch: densities, networks, the bound and importance weights.

Notation follows Mattei & Frellsen (2019), "MIWAE: Deep generative modelling and
imputation of incomplete data sets":

- prior            p(z) = N(0, I_d)
- encoder          q(z | x_o) = StudentT(z | g(iota(x_o))), iota = zero imputation
                   (of the one-hot codes, for categorical columns), the
                   conditional mean under a Gaussian (``_gaussian``), or a
                   learned constant per numeric column
- decoder          p(x | z) = prod_j p(x_j | f_j(z)): per column a Student-t, a
                   point mass plus a Student-t, a categorical over a
                   numeric column's values, or over a categorical column's
                   levels (see ``_likelihoods``)
- log weights      log r_k = log p(x_o | z_k) + log p(z_k) - log q(z_k | x_o)
- MIWAE bound      L_K = logsumexp_k(log r_k) - log K
- not-MIWAE        with a missingness model p(s | x) (``_missingness``), each
                   code z_k comes with a draw x_m,k ~ p(x_m | z_k), and
                   log r_k gains log p(s | x_o, x_m,k) (Ipsen et al., 2021)

All randomness is drawn from an explicit ``torch.Generator`` (training) or from
:class:`~miwae_impute._random.RowGenerators`, one stream per row (inference):
nothing here reads or advances the global torch RNG.
"""

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._gaussian import GaussianFill
from ._likelihoods import (
    StudentT,
    make_likelihood,
    student_t_log_prob,
    student_t_rsample,
)
from ._missingness import make_missingness
from ._random import gumbel

_LOG_2PI = math.log(2 * math.pi)


def normal_log_prob(z):
    """log N(z | 0, I), summed over the last axis."""
    return -0.5 * (z.square() + _LOG_2PI).sum(-1)


_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "silu": nn.SiLU}


class _MLP(nn.Sequential):
    """Linear layers with an activation between them.

    With tanh, it evaluates tanh(a) = 2 sigmoid(2a) - 1 with the two affine
    maps folded into the Linear layers around it, so that each hidden layer is
    one matmul and one sigmoid: the same function as the plain
    ``nn.Sequential``, with three fewer passes over each hidden layer's
    output, and sigmoid is several times faster than tanh on CPUs where tanh
    is not vectorised. The parameters, and so ``state_dict``, are the plain
    Linear layers'.
    """

    def forward(self, x):
        if not all(isinstance(m, nn.Tanh) for m in self[1::2]):
            return super().forward(x)
        linears = self[::2]
        for i, layer in enumerate(linears):
            weight, bias = layer.weight, layer.bias
            if i:  # the input is g = sigmoid(2a), and tanh(a) = 2g - 1
                weight, bias = 2.0 * weight, bias - weight.sum(1)
            if i + 1 < len(linears):
                x = F.linear(x, 2.0 * weight, 2.0 * bias).sigmoid_()
            else:
                x = F.linear(x, weight, bias)
        return x

    def output_bias(self):
        """The bias of the last layer: the output at which no unit responds."""
        return self[-1].bias


def _activation_pair(activation):
    """``activation`` as (the encoder's, the decoder's): one name sets both."""
    pair = (activation,) * 2 if isinstance(activation, str) else tuple(activation)
    if len(pair) != 2 or not all(name in _ACTIVATIONS for name in pair):
        raise ValueError(
            f"activation must be one of {sorted(_ACTIVATIONS)}, or a pair of "
            f"them (the encoder's, the decoder's); got {activation!r}."
        )
    return pair


def _mlp(n_in, hidden_layer_sizes, n_out, activation):
    layers = []
    for width in hidden_layer_sizes:
        layers += [nn.Linear(n_in, width), _ACTIVATIONS[activation]()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return _MLP(*layers)


class MIWAE(nn.Module):
    """Deep latent variable model with a Student-t encoder and a product decoder.

    Parameters
    ----------
    n_features : int
        Dimension p of the data.
    latent_dim : int
        Dimension d of the code z.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers of both the encoder and the decoder MLPs.
    activation : {"tanh", "relu", "elu", "silu"} or (str, str)
        Hidden activation of both networks, or of the encoder and of the
        decoder.
    decoder : {"mlp", "linear", "ppca"}, default="mlp"
        The network from z to the parameters of p(x | z): an MLP, one linear
        map, or one linear map to the means alone, the other parameters
        (scales, degrees of freedom, mass probabilities) being constants
        learned per column: probabilistic PCA with Student-t noise.
    min_scale : float
        Floor added to every Student-t scale, which keeps the likelihood bounded
        (Mattei & Frellsen, 2018).
    min_df : float
        Offset added to every degrees-of-freedom output; above 2 the variance,
        and so the posterior standard deviation, exists.
    point_mass_values : array-like of shape (p,), default=None
        Mass point of each column modelled as a point mass plus a Student-t
        (NaN for the plain Student-t columns), in standardised units.
    support : list of (array-like or None), default=None
        Values of each column modelled as discrete (None for the others), in
        standardised units.
    n_levels : array-like of int of shape (p,), default=None
        Levels of each categorical column (0 for the others), whose values
        are codes 0 to n_levels - 1.
    missingness : {"ignorable", "self-masking", "logistic"}, default="ignorable"
        The model p(s | x) of the mask of the numeric columns (see
        ``_missingness``); "ignorable" is MIWAE, the others not-MIWAE.
    encoder_fill : {"zero", "gaussian", "learned"}, default="zero"
        iota, what the encoder sees at the missing numeric cells: zero,
        their conditional mean under a Gaussian (:class:`GaussianFill`,
        fitted by ``self.fill.fit``), or a constant per column learned with
        the weights (``iota``).
    """

    def __init__(
        self,
        n_features,
        latent_dim,
        hidden_layer_sizes,
        activation="tanh",
        decoder="mlp",
        min_scale=1e-3,
        min_df=3.0,
        point_mass_values=None,
        support=None,
        n_levels=None,
        missingness="ignorable",
        encoder_fill="zero",
    ):
        super().__init__()
        encoder_units, decoder_units = _activation_pair(activation)
        self.posterior = StudentT(latent_dim, min_scale, min_df)
        self.likelihood = make_likelihood(
            n_features, point_mass_values, support, n_levels, min_scale, min_df
        )
        self.encoder = _mlp(
            self.likelihood.input_width,
            hidden_layer_sizes,
            self.posterior.width,
            encoder_units,
        )
        self.decoder = _mlp(
            latent_dim,
            hidden_layer_sizes if decoder == "mlp" else (),
            self.likelihood.width,
            decoder_units,
        )
        # ppca: the outputs of p(x | z) that move with z; the others are the
        # last layer's bias, a constant per column.
        moving = self.likelihood.mean_outputs() if decoder == "ppca" else None
        self.register_buffer("_moving", moving, persistent=False)
        levels = np.zeros(n_features) if n_levels is None else np.asarray(n_levels)
        numeric = np.flatnonzero(levels == 0)
        self.missingness = make_missingness(missingness, numeric)
        self.register_buffer("_numeric", torch.as_tensor(levels == 0), persistent=False)
        self.fill = GaussianFill(numeric) if encoder_fill == "gaussian" else None
        learned = encoder_fill == "learned"
        self.iota = nn.Parameter(torch.zeros(n_features)) if learned else None

    def filled(self, x, mask):
        """iota(x_o) at the numeric cells: ``x`` with its missing numeric
        cells filled as the encoder reads them (unchanged with a zero fill,
        and with the learned one, which :meth:`encode` adds)."""
        return x if self.fill is None else self.fill(x, mask)

    def encode(self, x, mask, filled=None):
        """Parameters (loc, scale, df) of q(z | x_o); ``x`` is zero-imputed.

        ``filled``, if given, is ``self.filled(x, mask)``, computed beforehand
        (training fills every row once, not at every step).
        """
        x = self.filled(x, mask) if filled is None else filled
        if self.iota is not None:  # added at each step, so that it is learned
            x = x + self.iota * (self._numeric * (1 - mask))
        x = self.likelihood.encoder_input(x, mask)
        return self.posterior.student_t(self.encoder(x))

    def decode(self, z):
        """The decoder's output at ``z``: the parameters of p(x | z)."""
        out = self.decoder(z)
        if self._moving is None:
            return out
        return torch.where(self._moving, out, self.decoder.output_bias())

    def remasked_error(self, x, mask, hidden, n_samples, generator):
        """Squared error of the model's own imputation of hidden observed cells.

        The encoder sees x_o' = x_o less the cells in ``hidden``. The codes
        z_k ~ q(z | x_o') are weighted by r_k = p(x_o' | z_k) p(z_k) / q(z_k |
        x_o'), the :meth:`log_weights` of x_o' (of an ignorable model: a
        missingness model would read the hidden cells as missing, so
        training calls this only without one), and the hidden cells imputed
        by their self-normalised mean sum_k w_k E[x_h | z_k], as
        :func:`posterior_moments` imputes missing cells. The error trains
        the conditional p(x_h | x_o') directly, as masked autoencoders do; it
        is a penalty beside the bound, not a part of it.

        Parameters
        ----------
        x : Tensor of shape (batch, p)
            Zero-imputed data.
        mask : Tensor of shape (batch, p)
            1.0 where observed, 0.0 where missing.
        hidden : Tensor of shape (batch, p)
            1.0 for the observed cells hidden from the encoder, else 0.0.
        n_samples : int
            Codes per row.
        generator : torch.Generator
            Source of the codes.

        Returns
        -------
        error : Tensor of shape (batch,)
            Summed squared error of each row's hidden numeric cells, in the
            model's (standardised) units; categorical cells are left out.
        """
        kept = mask - hidden
        log_r, p_x_given_z, _ = self.log_weights(x * kept, kept, n_samples, generator)
        weights = torch.softmax(log_r, 0).unsqueeze(-1)
        imputed = (weights * self.likelihood.mean(p_x_given_z)).sum(0)
        return ((imputed - x).square() * (hidden * self._numeric)).sum(-1)

    def log_weights(self, x, mask, n_samples, generator, filled=None, proposal=None):
        """Importance log weights log r_k for ``n_samples`` codes per row.

        Parameters
        ----------
        x : Tensor of shape (batch, p)
            Zero-imputed data.
        mask : Tensor of shape (batch, p)
            1.0 where observed, 0.0 where missing.
        n_samples : int
            Number of codes z_k drawn from q(z | x_o) per row.
        generator : torch.Generator or RowGenerators
            Source of all randomness.
        filled : Tensor of shape (batch, p), default=None
            ``self.filled(x, mask)``, if computed beforehand.
        proposal : tuple of Tensor, default=None
            ``self.encode(x, mask)``, if computed beforehand (inference
            draws the codes of a row in chunks from one q(z | x_o)).

        Returns
        -------
        log_r : Tensor of shape (n_samples, batch)
        p_x_given_z : Tensor of shape (n_samples, batch, width)
            The decoder's output at each code: the parameters of p(x | z_k),
            which ``self.likelihood`` reads.
        completion : Completion or None
            With a missingness model (not-MIWAE), the missing values that the
            weights score, with the observed ones (see :class:`Completion`);
            None without.
        """
        log_r, p_x_given_z = self._log_weights_observed(
            x, mask, n_samples, generator, filled, proposal
        )
        if self.missingness is None:
            return log_r, p_x_given_z, None
        log_p_s_given_x, completion = self._complete(x, mask, p_x_given_z, generator)
        return log_r + log_p_s_given_x, p_x_given_z, completion

    def _log_weights_observed(
        self, x, mask, n_samples, generator, filled=None, proposal=None
    ):
        """log p(x_o | z_k) + log p(z_k) - log q(z_k | x_o), and the decoder's
        output: :meth:`log_weights` without the missingness model's term."""
        if proposal is None:
            proposal = self.encode(x, mask, filled)
        q_loc, q_scale, q_df = proposal
        z = student_t_rsample(q_loc, q_scale, q_df, n_samples, generator)
        p_x_given_z = self.decode(z)
        log_p_x_given_z = self.likelihood.observed_log_prob(x, p_x_given_z, mask)
        log_p_z = normal_log_prob(z)
        log_q_z = student_t_log_prob(z, q_loc, q_scale, q_df).sum(-1)
        return log_p_x_given_z + log_p_z - log_q_z, p_x_given_z

    def _complete(self, x, mask, p_x_given_z, generator):
        """log p(s | x_o, x_m,k) of each code, and the completion it scores.

        x_m,k ~ p(x_m | z_k) comes as candidates (``likelihood.candidates``):
        a reparameterised Student-t draw, and the mass point or the values of
        a discrete column with their probabilities. A missingness model that
        factorises over columns (self-masking) sums them out, p(s_j | z_k,
        t_k) = sum_c p(x_j = c | z_k) p(s_j | c), an unbiased estimate of
        p(s_j | z_k) whose gradient reaches the probabilities; otherwise one
        candidate per cell is drawn. Observed cells have one candidate, x_j.
        """
        values, log_p = self.likelihood.candidates(p_x_given_z, generator, 1)
        observed = mask > 0
        first = torch.arange(len(log_p), device=x.device).view(-1, 1, 1, 1) == 0
        values = torch.where(observed, x, values)
        log_p = torch.where(observed, torch.where(first, 0.0, -torch.inf), log_p)
        if not self.missingness.factorised:
            values = Completion(values, log_p).sample(generator, 1).unsqueeze(0)
            log_p = torch.zeros_like(values)
        log_joint = log_p + self.missingness.log_prob(mask, values)
        log_p_s = torch.logsumexp(log_joint, 0)
        return log_p_s.sum(-1), Completion(values, log_joint - log_p_s)


class Completion(NamedTuple):
    """The missing values behind not-MIWAE's weights: for each code and cell,
    candidate values and their log probabilities given z_k and the mask, of
    shape (c, n_samples, batch, p); observed cells have their value, of
    probability 1."""

    values: torch.Tensor
    log_p: torch.Tensor

    def moments(self, second=True):
        """E[x_j | z_k, s] and E[x_j^2 | z_k, s] (None unless ``second``) of
        every code."""
        p = self.log_p.exp()
        squared = (p * self.values.square()).sum(0) if second else None
        return (p * self.values).sum(0), squared

    def gather(self, index):
        """The candidates of codes ``index`` (n_draws, batch), chosen per row."""
        c, _, _, width = self.values.shape
        take = index.expand(c, *index.shape)[..., None].expand(-1, -1, -1, width)
        return Completion(self.values.gather(1, take), self.log_p.gather(1, take))

    def sample(self, generator, row_dim):
        """One candidate per cell, drawn by its probability (Gumbel-max)."""
        noise = gumbel(self.log_p.shape, generator, row_dim + 1, self.log_p)
        choice = (self.log_p + noise).argmax(0, keepdim=True)
        return self.values.gather(0, choice).squeeze(0)


def miwae_bound(log_r):
    """Per-row MIWAE bound from log weights of shape (K, batch).

    L_K = log (1/K) sum_k r_k  (Mattei & Frellsen 2019, eq. 4).
    """
    return torch.logsumexp(log_r, dim=0) - math.log(log_r.shape[0])
