"""Stage 5: PMI matrix -> word vectors by truncated SVD.

``M ~ U_d S_d V_d^T`` keeps the ``d`` largest singular triplets.  Word vectors are
``W = U_d S_d^p`` (eigenvalue weighting; Levy, Goldberg & Dagan 2015 found ``p = 0.5``
or 0 better than the "correct" ``p = 1``) and context vectors ``C = V_d S_d^p``.  With
``wc`` ("w+c") the vectors are ``W/|W| + C/|C|`` (rows normalised to unit length).

Backends: scikit-learn's ``randomized_svd`` (Halko et al. 2011; default) and
``scipy.sparse.linalg.svds`` (ARPACK, exact to tolerance).  Both are seeded and return
singular values in descending order with a deterministic sign for every vector
(``sklearn.utils.extmath.svd_flip``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import ParameterError

SVD_BACKENDS = ("randomized", "arpack")


def check_svd_params(dim, eig, n_words: int | None = None) -> None:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ParameterError(f"dim={dim!r} must be a positive integer (typical: 100-500)")
    if n_words is not None and dim >= n_words:
        raise ParameterError(
            f"dim={dim} must be smaller than the vocabulary size ({n_words} words); "
            "lower --dim, lower --min-count or give a larger corpus"
        )
    if isinstance(eig, bool) or not isinstance(eig, (int, float)) or not (0 <= eig <= 1):
        raise ParameterError(f"eig={eig!r} must be in [0, 1] (0.5 is the usual value; 1 is plain U*S)")


def truncated_svd(matrix: sp.spmatrix, dim: int, *, backend: str = "randomized", n_iter: int | None = None,
                  n_oversamples: int = 20, seed: int = 0):
    """The ``dim`` largest singular triplets of ``matrix``: ``(U, S, Vt)``, S descending.

    ``n_iter``: power iterations of the randomized backend (default 5).
    """
    check_svd_params(dim, 0.5, min(matrix.shape))
    if backend not in SVD_BACKENDS:
        raise ParameterError(f"svd backend {backend!r} is not one of {', '.join(SVD_BACKENDS)}")
    from sklearn.utils.extmath import randomized_svd, svd_flip

    if backend == "randomized":
        u, s, vt = randomized_svd(
            matrix, dim, n_oversamples=n_oversamples, n_iter=5 if n_iter is None else n_iter,
            power_iteration_normalizer="QR", random_state=seed, flip_sign=True,
        )
        return u, s, vt
    from scipy.sparse.linalg import svds

    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(min(matrix.shape)).astype(matrix.dtype)
    u, s, vt = svds(matrix, k=dim, solver="arpack", v0=v0, maxiter=None)
    order = np.argsort(-s, kind="stable")
    u, s, vt = u[:, order], s[order], vt[order]
    u, vt = svd_flip(u, vt)
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vt)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def word_vectors(u: np.ndarray, s: np.ndarray, vt: np.ndarray, *, eig: float = 0.5, wc: bool = False,
                 dtype=np.float32) -> np.ndarray:
    """``U S^eig`` or, with ``wc``, ``unit(U S^eig) + unit(V S^eig)``."""
    check_svd_params(len(s), eig)
    weight = s ** eig
    w = u * weight
    if wc:
        w = _unit_rows(w) + _unit_rows(vt.T * weight)
    return np.ascontiguousarray(w, dtype=dtype)
