"""Checkers for lesson 10's exercises: cosine similarity, and mean pooling over the real tokens."""

import numpy as np

from minitransformer.pretrained.embeddings import l2_normalize, mean_pool as library_mean_pool

from exercises import ExerciseWrong, call, compare_arrays


def check_cosine_similarity(cosine_similarity):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5)) * np.array([[1.0], [10.0], [0.1]])  # rows of very different lengths
    b = rng.standard_normal((4, 5)) * np.array([[2.0], [0.5], [7.0], [1.0]])
    expected = l2_normalize(a) @ l2_normalize(b).T
    compare_arrays(call(cosine_similarity, a.copy(), b.copy()), expected, "the cosine matrix", atol=1e-6)
    same = call(cosine_similarity, a.copy(), a.copy())
    compare_arrays(np.diagonal(np.asarray(same)), np.ones(3), "the diagonal of cosine_similarity(a, a)")


def check_mean_pool(mean_pool):
    rng = np.random.default_rng(1)
    hidden = rng.standard_normal((3, 5, 4))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]])  # row 0 without padding
    got = call(mean_pool, hidden.copy(), mask.copy())
    if got is not None and np.shape(got) == (3, 5):
        raise ExerciseWrong("the result has shape (3, 5): it averaged over the features instead of over time "
                            "(average over axis 1, the tokens)")
    compare_arrays(got, library_mean_pool(hidden, mask), "the pooled vectors")


EXERCISES = {"cosine_similarity": check_cosine_similarity, "mean_pool": check_mean_pool}

MISTAKES = {
    "cosine_similarity": [
        lambda a, b: a @ b.T,  # dot products, not normalized
        lambda a, b: (a @ b.T) / np.linalg.norm(a, axis=1, keepdims=True),  # only a's rows normalized
        lambda a, b: (a / np.linalg.norm(a)) @ (b / np.linalg.norm(b)).T,  # each whole matrix normalized
    ],
    "mean_pool": [
        lambda h, m: h.mean(axis=1),  # the padding averaged in too
        lambda h, m: (h * m[:, :, None]).sum(axis=1) / h.shape[1],  # padding zeroed, but divided by T
        lambda h, m: (h * m[:, :, None]).mean(axis=2),  # averaged over the features
    ],
}
