"""T5's relative position bias: attention learns how far apart two tokens are, not where each one is.

GPT and BERT add a learned vector per absolute position to each token's embedding, so a head that
wants "the token just before me" has to learn it anew for every position.  T5 (Raffel et al., 2020,
section 2.1) instead adds one learned scalar per head to each attention score, chosen by the
distance between the key and the query:

    S[h, i, j] = q_i . k_j / sqrt(d) + b[h, bucket(j - i)]

"Look one to the left" is then a single number per head, and it holds at every position.  The
distances are grouped into buckets: one bucket for each small distance (where the exact offset
matters), then buckets that double in width up to `max_distance`, and everything farther shares the
last bucket.  An encoder tells left from right (half of the buckets each); a causal decoder only
ever looks left, so all its buckets measure leftward distance.

One bias is computed per stack and shared by all its layers, as in T5.  Cross-attention has none:
an encoder position and a decoder position are not on one line.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .layers import Embedding
from .module import Module

POSITIONS = ("absolute", "relative")  # a config's `positions`: learned embeddings per position, or this bias
MAX_DISTANCE = 2 ** 16  # far beyond any context here; a larger one is a mistake or a hostile file
SHUT = 8.0  # a one-sided head's start on the side it does not read: e^-8, about 3e-4 of a neighbour's weight


def relative_position_bucket(relative_position, bidirectional: bool = True, num_buckets: int = 32,
                             max_distance: int = 128) -> np.ndarray:
    """The bucket (0 .. num_buckets-1) of each key-minus-query distance, as T5 assigns them.

    bidirectional: half the buckets for keys to the right (distance > 0), half for the left.
    Causal (bidirectional=False): keys to the right never occur; they share bucket 0 with distance 0.
    Within a direction, of its n buckets the first n/2 are exact distances 0, 1, ..., n/2 - 1; the
    rest cover n/2 .. max_distance on a log scale, and anything farther lands in the last one.
    The log is taken in float32, as T5 does, so the bucket edges match its own (golden test).
    """
    relative_position = np.asarray(relative_position, dtype=np.int64)
    bucket = np.zeros(relative_position.shape, dtype=np.int64)
    if bidirectional:
        num_buckets //= 2
        bucket += (relative_position > 0) * num_buckets  # keys to the right get the upper half
        distance = np.abs(relative_position)
    else:
        distance = np.maximum(-relative_position, 0)  # how far to the left; the right never happens
    max_exact = num_buckets // 2
    # log-spaced: distance max_exact lands in bucket max_exact, max_distance in bucket num_buckets
    # (the small distances take the exact branch below; clipping them here only keeps the log finite)
    scaled = np.maximum(distance, max_exact).astype(np.float32) / np.float32(max_exact)
    ratio = np.log(scaled) / np.float32(np.log(max_distance / max_exact))
    far = max_exact + (ratio * np.float32(num_buckets - max_exact)).astype(np.int64)
    far = np.minimum(far, num_buckets - 1)
    return bucket + np.where(distance < max_exact, distance, far)


def local_slopes(n_heads: int) -> np.ndarray:
    """2, 1, 1/2, 1/4, ...: one slope per head for `RelativePositionBias.start_local`, from a head that
    starts out reading little beyond its neighbours to ones that see the whole window."""
    return 2.0 ** -np.arange(-1, n_heads - 1)


def neighbour_start(n_heads: int) -> tuple:
    """(slopes, sides) for `RelativePositionBias.start_local`: head 0 starts reading the token to the
    left of each position, head 1 the token to its right (slope 2: 0.87 of the weight on the adjacent
    token, 0.12 on the next), the other heads as `local_slopes` (1/2, 1/4, ...: wide, both sides).
    A two-sided head mixes its left and right neighbours into one sum; these two keep them apart."""
    if n_heads < 2:
        raise ValueError(f"a neighbour start needs at least 2 heads (one per side), got n_heads={n_heads}")
    slopes = local_slopes(n_heads)
    slopes[1] = slopes[0]
    sides = np.zeros(n_heads, dtype=np.int64)
    sides[:2] = (-1, 1)
    return slopes, sides


class RelativePositionBias(Module):
    """b[h, bucket(j - i)] for every query i and key j, shaped (1, heads, queries, keys) to add to the
    scores.  Parameter: relative_attention_bias, an Embedding of (num_buckets, n_heads)."""

    def __init__(self, n_heads: int, bidirectional: bool, num_buckets: int = 32, max_distance: int = 128):
        super().__init__()
        exact = (num_buckets // 2 if bidirectional else num_buckets) // 2  # buckets of one exact distance
        if exact < 1 or max_distance <= exact:
            raise ValueError(f"relative position bias: num_buckets={num_buckets} and max_distance={max_distance} "
                             "leave no room for exact and log-spaced buckets; T5 uses 32 and 128")
        if max_distance > MAX_DISTANCE:  # bucket_distances walks every distance up to it
            raise ValueError(f"relative position bias: max_distance={max_distance} is above {MAX_DISTANCE:,}; "
                             "T5 uses 128")
        self.bidirectional, self.num_buckets, self.max_distance = bidirectional, num_buckets, max_distance
        self.relative_attention_bias = Embedding(num_buckets, n_heads)

    def forward(self, query_length: int, key_length: int, query_offset: int = 0) -> Tensor:
        """The bias of queries at positions query_offset .. query_offset + query_length - 1 (a decoder
        generating with a cache has only its newest position as query) against keys 0 .. key_length-1."""
        queries = np.arange(query_offset, query_offset + query_length)[:, None]
        keys = np.arange(key_length)[None, :]
        buckets = relative_position_bucket(keys - queries, self.bidirectional, self.num_buckets, self.max_distance)
        bias = self.relative_attention_bias(buckets)  # (queries, keys, heads)
        return bias.permute(2, 0, 1).unsqueeze(0)

    def bucket_distances(self) -> np.ndarray:
        """The smallest |key - query| that falls in each bucket (num_buckets,): 0, 1, 2, ... for the exact
        buckets, then the first distance of each log-spaced one; a bucket no distance reaches gets
        max_distance."""
        reach = np.arange(-self.max_distance, self.max_distance + 1)  # the last bucket starts by max_distance
        buckets = relative_position_bucket(reach, self.bidirectional, self.num_buckets, self.max_distance)
        nearest = np.full(self.num_buckets, self.max_distance, dtype=np.int64)
        np.minimum.at(nearest, buckets, np.abs(reach))
        return nearest

    def bucket_sides(self) -> np.ndarray:
        """Where each bucket's keys are (num_buckets,): -1 left of the query, +1 right, 0 the query itself."""
        buckets = np.arange(self.num_buckets)
        sides = np.where(self.bidirectional & (buckets >= self.num_buckets // 2), 1, -1)
        sides[0] = 0  # distance 0 (in a causal bias, also the right, which it never sees)
        return sides

    def start_local(self, slopes, sides=None) -> None:
        """Set b[h, bucket] = -slopes[h] * distance: attention starts out favouring nearby tokens, more
        sharply in the heads with the steeper slopes (the linear penalty of ALiBi, Press et al. 2022).

        sides[h] = -1 or +1 makes head h one-sided: it starts on the nearest token on that side,
        b = -slopes[h] * (distance - 1) there and -SHUT everywhere else, itself included (0 or no
        `sides`: both sides, as above).  Training may then move every bias anywhere."""
        weight = self.relative_attention_bias.weight
        n_heads = weight.shape[1]
        slopes = np.asarray(slopes, dtype=np.float64)
        sides = np.zeros(n_heads, dtype=np.int64) if sides is None else np.asarray(sides)
        if slopes.shape != (n_heads,) or sides.shape != (n_heads,):
            raise ValueError(f"start_local needs one slope and one side per head ({n_heads}), "
                             f"got {slopes.shape} and {sides.shape}")
        if not np.isin(sides, (-1, 0, 1)).all():
            raise ValueError(f"start_local: each side must be -1 (left), 0 (both) or +1 (right), got {sides.tolist()}")
        distance = self.bucket_distances()[:, None].astype(np.float64)  # (buckets, 1)
        both_sides = -distance * slopes
        one_side = np.where(self.bucket_sides()[:, None] == sides, -(distance - 1) * slopes, -SHUT)
        weight.data[...] = np.where(sides == 0, both_sides, one_side)

    def extra_repr(self):
        return (f"bidirectional={self.bidirectional}, num_buckets={self.num_buckets}, "
                f"max_distance={self.max_distance}")
