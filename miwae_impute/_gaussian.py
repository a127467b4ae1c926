"""A multivariate Gaussian fitted by EM to data with missing values.

The linear-Gaussian model of the seeds (``003``): x ~ N(mu, Sigma), fitted
to x_o by expectation-maximisation, and its conditional mean
E[x_m | x_o] = mu_m + Sigma_mo Sigma_oo^-1 (x_o - mu_o), which MIWAE's
encoder may read in place of zeros (``encoder_fill="gaussian"``).
"""

import torch

__all__ = ["GaussianFill", "gaussian_em"]

# Budget, in elements, of the (rows, p, p) tensors of one chunk of EM's E-step.
_CHUNK_ELEMENTS = 2**22


def _solve_observed(sigma, x_centred, mask):
    """y with Sigma_oo y_o = x_o - mu_o and y_m = 0, for each row.

    The matrix A = M Sigma M + (I - M), M = diag(mask), is Sigma_oo on the
    observed block and the identity elsewhere, so one batched solve serves
    every pattern of missing values.
    """
    eye = torch.eye(sigma.shape[-1], dtype=sigma.dtype, device=sigma.device)
    outer = mask.unsqueeze(-1) * mask.unsqueeze(-2)
    A = outer * sigma + eye * (1 - mask).unsqueeze(-1)
    L = torch.linalg.cholesky(A)
    y = torch.cholesky_solve((x_centred * mask).unsqueeze(-1), L).squeeze(-1)
    return y * mask, L


def conditional_mean(x, mask, mu, sigma):
    """E[x | x_o] of each row: x_o where observed, E[x_m | x_o] elsewhere."""
    y, _ = _solve_observed(sigma, x - mu, mask)
    return torch.where(mask > 0, x, mu + y @ sigma)


def gaussian_em(x, mask, n_iter=50, ridge=1e-3, tol=1e-6):
    """(mu, Sigma) of a Gaussian fitted by EM to the observed cells.

    Parameters
    ----------
    x : Tensor of shape (n, p)
        Data, any value at the missing cells.
    mask : Tensor of shape (n, p)
        1.0 where observed, 0.0 where missing.
    n_iter : int, default=50
        Most EM steps.
    ridge : float, default=1e-3
        Added to the diagonal of Sigma at each step, which keeps it
        invertible for collinear or nearly constant columns.
    tol : float, default=1e-6
        Stop when no entry of mu or Sigma moves more than this.

    Returns
    -------
    mu : Tensor of shape (p,)
    sigma : Tensor of shape (p, p)
    """
    n, p = x.shape
    eye = torch.eye(p, dtype=x.dtype, device=x.device)
    counts = mask.sum(0).clamp(min=1)
    mu = (x * mask).sum(0) / counts
    centred = (x - mu) * mask
    sigma = torch.diag((centred.square()).sum(0) / counts) + ridge * eye
    chunk = max(1, _CHUNK_ELEMENTS // (p * p))  # rows of (rows, p, p) work
    for _ in range(n_iter):
        total, outer, conditional = x.new_zeros(p), x.new_zeros(p, p), 0.0
        for rows in range(0, n, chunk):
            xc, mc = x[rows : rows + chunk], mask[rows : rows + chunk]
            y, L = _solve_observed(sigma, xc - mu, mc)
            # around the last mean, so that no large sums cancel
            shifted = torch.where(mc > 0, xc - mu, y @ sigma)
            total, outer = total + shifted.sum(0), outer + shifted.T @ shifted
            # Cov[x | x_o] = Sigma - Sigma M A^-1 M Sigma, zero where observed
            B = torch.cholesky_solve(mc.unsqueeze(-1) * sigma, L)
            conditional = conditional + (sigma - (sigma * mc.unsqueeze(-2)) @ B).sum(0)
        step = total / n
        new_mu = mu + step
        new_sigma = (outer + conditional) / n - torch.outer(step, step)
        new_sigma = (new_sigma + new_sigma.T) / 2 + ridge * eye
        change = max(
            float((new_mu - mu).abs().max()), float((new_sigma - sigma).abs().max())
        )
        mu, sigma = new_mu, new_sigma
        if change < tol:
            break
    return mu, sigma


class GaussianFill(torch.nn.Module):
    """iota(x_o) = E[x | x_o] under a Gaussian fitted to the numeric columns.

    The encoder's input in place of zero imputation: each missing numeric
    cell gets its conditional mean given the row's observed numeric cells;
    categorical columns pass through. A function of x_o alone, so q(z |
    iota(x_o)) is a proposal like any other and the MIWAE bound stays a
    bound. :meth:`fit` sets the Gaussian (buffers, saved with the weights).

    Parameters
    ----------
    numeric : array-like of int
        The indices of the numeric columns.
    """

    def __init__(self, numeric):
        super().__init__()
        numeric = torch.as_tensor(numeric, dtype=torch.long)
        q = len(numeric)
        self.register_buffer("numeric", numeric, persistent=False)
        self.register_buffer("mu", torch.zeros(q))
        self.register_buffer("sigma", torch.eye(q))

    @torch.no_grad()
    def fit(self, x, mask):
        """Fit the Gaussian by EM (in float64) to zero-imputed ``x``."""
        cols = self.numeric.to(x.device)
        if len(cols) == 0:
            return self
        mu, sigma = gaussian_em(x[:, cols].double(), mask[:, cols].double())
        self.mu.copy_(mu)
        self.sigma.copy_(sigma)
        return self

    def forward(self, x, mask):
        if len(self.numeric) == 0:
            return x
        # In float64: Sigma_oo of collinear columns is near singular.
        cols, dtype = self.numeric, torch.float64
        xs, ms = x[..., cols].to(dtype), mask[..., cols].to(dtype)
        filled = conditional_mean(xs, ms, self.mu.to(dtype), self.sigma.to(dtype))
        return x.index_copy(-1, cols, filled.to(x.dtype))
