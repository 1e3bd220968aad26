"""Seeding: k-means++ in the geometry of the loss, random samples, or user centers."""

from __future__ import annotations

import numpy as np

from ._kernels import cost_matrix, dense_rows


def kmeans_plusplus(
    X, n_clusters, loss, x_sq, random_state, sample_weight, n_threads, n_local_trials=None
):
    """Greedy k-means++ whose potential is the loss's seeding cost.

    This follows scikit-learn's ``_kmeans_plusplus`` step for step (first center drawn
    with probability proportional to ``sample_weight``, then ``2 + log(k)`` candidates
    drawn proportionally to ``sample_weight * potential`` and the one that lowers the
    total potential most kept), so for ``loss="square"`` it draws the same centers from
    the same ``random_state``. The potential is the cost under ``loss.seeding_loss``:
    the loss itself, except for ``epsilon_insensitive`` whose dead zone would give many
    samples zero probability (there the Euclidean distance is used).
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, X.shape[1]), dtype=X.dtype)
    p = sample_weight / sample_weight.sum()
    first = random_state.choice(n_samples, p=p)
    centers[0] = dense_rows(X, [first])[0]

    def potential(C):
        return cost_matrix(X, x_sq, C, loss.seeding_loss, n_threads)

    closest = potential(centers[:1])[:, 0]
    current_pot = float(closest @ sample_weight)
    for c in range(1, n_clusters):
        if not current_pot > 0:
            # every sample already costs nothing: fall back to weighted sampling
            candidate_ids = random_state.choice(n_samples, size=n_local_trials, p=p)
        else:
            rand_vals = random_state.uniform(size=n_local_trials) * current_pot
            cumulative = np.cumsum(sample_weight * closest, dtype=np.float64)
            candidate_ids = np.searchsorted(cumulative, rand_vals)
            np.clip(candidate_ids, None, n_samples - 1, out=candidate_ids)
        cand = potential(dense_rows(X, candidate_ids))
        np.minimum(closest[:, None], cand, out=cand)
        cand_pot = sample_weight @ cand
        best = int(np.argmin(cand_pot))
        current_pot = float(cand_pot[best])
        closest = cand[:, best]
        centers[c] = dense_rows(X, [candidate_ids[best]])[0]
    return centers


def random_init(X, n_clusters, random_state, sample_weight):
    """``n_clusters`` distinct samples drawn with probability proportional to weight;
    with fewer samples of positive weight than clusters, all of those, then samples
    of weight 0 drawn uniformly (their clusters end empty: the fit warns)."""
    p = sample_weight / sample_weight.sum()
    n_positive = int(np.count_nonzero(p > 0))
    if n_positive >= n_clusters:
        idx = random_state.choice(X.shape[0], size=n_clusters, replace=False, p=p)
    else:
        first = random_state.choice(X.shape[0], size=n_positive, replace=False, p=p)
        rest = np.flatnonzero(~(p > 0))
        idx = np.concatenate(
            [first, random_state.choice(rest, size=n_clusters - n_positive, replace=False)]
        )
    return dense_rows(X, idx)
