"""A T5-style encoder-decoder, pretrained by span corruption (Raffel et al., 2020).

    encoder: input ids -> embeddings -> n_layers x [self-attention (bidirectional); mlp] -> LN -> memory
    decoder: target ids, shifted right -> embeddings
             -> n_layers x [causal self-attention; cross-attention to memory; mlp] -> LN
             -> logits = x @ shared_embedding^T

The encoder reads the corrupted text with full bidirectional context (like BERT); the decoder
writes the missing spans left to right (like GPT), looking at the encoder's output through
cross-attention.  One embedding matrix is shared by the encoder input, decoder input and output.

How T5 starts (T5Config.init).  With GPT-2's N(0, 0.02) start everywhere, the tiny T5 gets stuck
reading its input: after 1500 steps of `pretrain --model t5` its cross-attention is still uniform
(entropy 4.80 of ln 128 = 4.85) and the encoder's attention is not local, so the first token of
each span, which only the encoder can tell, is just 0.24 nats below the unigram, against 1.31 for
the later tokens (the report of `evaluate` splits them).  It is a chicken-and-egg: the encoder
only learns to gather a sentinel's neighbours if the decoder reads the sentinel, and the decoder
only learns to look there if something worth reading is there; with 1/128 of the attention on the
right place, the signal is weak.  `init="reading"` breaks the tie at step 0 (`start_reading`):
cross-attention starts by matching like with like (W_q = W_k = I: the sentinel the decoder has
just written finds the same sentinel in the input), and the encoder's relative position bias
starts local (ALiBi's -slope x distance).  Each change alone did nothing; with both, a decoder
head locked on the matching sentinel (weight 0.98) in one seed of three within the 1500 steps,
taking the first token of a span to 0.87 nats below the unigram; the others were on the way.  The
third change opens the road the text travels, encoder attention then cross-attention, by starting
its value and output matrices 4x larger (value_scale=4): then a head locks on in every seed tried
(weights 0.996 and 0.998 in seed 1) and the first token of a span is 1.05-1.27 nats below the
unigram after 1500 steps.  The fourth keeps the two sides of a gap apart (neighbour_heads): two
encoder heads start one-sided, on the token to the left and the token to the right.  A symmetric
local head hands the decoder "left neighbour + right neighbour" as one sum; after the four changes
the decoder had learned to read the left neighbour and nothing on the right (on the demo, two heads
on the token just left of the sentinel, weights 0.91-1.00), which is a bigram guess: `an` ->
` object`, when ` is raised` asks for ` exception`.  With the one-sided start the first token of a
span gained 0.17-0.24 nats on each seed.  The table of runs is in
objectives/span_corruption_task.py (SpanCorruption).

How this differs from the real T5, and why:
- positions: the presets use T5's own, a learned bias per head and distance bucket added to the
  self-attention scores of each stack (nn/relative_position.py).  `positions="absolute"`, learned
  position embeddings as GPT and BERT have here, is the dataclass default, so checkpoints saved
  before relative positions existed still load.  With GPT-2's start the two were level within
  seed noise (1500 steps, hidden-span NLL below the unigram, seeds 0 and 1: absolute 1.01 and
  0.95, relative 0.82 and 1.03); the reading start needs the relative bias;
- normalization: LayerNorm (with mean subtraction and bias) by default; T5's RMSNorm (scale only)
  with `norm="rmsnorm"`;
- feed-forward: GELU instead of T5 v1.0's ReLU (v1.1 uses gated GELU);
- the tied output layer is not rescaled by d^-1/2.  T5 rescales because its embeddings start at
  std 1; ours start at GPT-2's 0.02, so the rescale would only make the first logits 10x smaller
  (measured: 300 steps of the tiny T5 ended 0.25 nats worse than the unigram on hidden text with
  the rescale, 0.16 worse without; std-1 embeddings with the rescale: 0.32 worse);
- like T5: pre-norm blocks, a final norm on each stack, and the decoder starts from the padding
  token.  Pretraining here hides 30% of the tokens instead of 15% (objectives/span_corruption_task.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from .. import functional as F
from ..nn import (POSITIONS, Dropout, Embedding, KVCache, Module, ModuleList, RelativePositionBias, TransformerBlock,
                  local_slopes, make_norm, neighbour_start)
from ..tensor import Tensor, no_grad
from .generation import check_sampling_args, generate_tokens
from .gpt import check_token_batch
from .init import config_from_preset, init_weights


INITS = ("gpt2", "reading")
MATCH_SCALE = 1.0  # "reading": cross-attention's W_q = W_k = MATCH_SCALE * I (2 was worse: see "How T5 starts")


@dataclass
class T5Config:
    vocab_size: int = 512
    context_length: int = 128  # longest encoder input and longest decoder output
    n_layers: int = 2  # in the encoder and again in the decoder
    n_heads: int = 4
    d_model: int = 128
    d_ff: int = 512
    dropout: float = 0.0
    pad_id: int = 0  # also the decoder's start token, as in T5
    norm: str = "layernorm"  # "rmsnorm" is T5's own (no centering, no bias); see nn/normalization.py
    activation: str = "gelu"  # of the feed-forward blocks; "relu" is T5 v1.0's
    positions: str = "absolute"  # learned embeddings, as GPT and BERT here; "relative": T5's own bias
    relative_buckets: int = 32  # T5's: 16 per direction in the encoder, half of them exact distances
    relative_max_distance: int = 128  # farther than this shares the last bucket
    bias: bool = True  # in every Linear (and LayerNorm); T5 has none
    init: str = "gpt2"  # "reading": start the decoder already reading its encoder (see "How T5 starts")
    value_scale: float = 1.0  # "reading": W_v and W_o of encoder and cross-attention start this times GPT-2's
    neighbour_heads: bool = False  # "reading": encoder heads 0 and 1 start on the token left / right of each one
    relative_stacks: ClassVar[int] = 2  # relative positions: one bias table for the encoder, one for the decoder

    def to_dict(self) -> dict:
        return asdict(self)


T5_PRESETS = {
    # the real T5-small's architecture: relative positions, RMSNorm, ReLU (T5 v1.0), no biases:
    # 60,506,624 parameters, as Hugging Face's T5ForConditionalGeneration for t5-small
    "t5-small": T5Config(vocab_size=32128, context_length=512, n_layers=6, n_heads=8, d_model=512, d_ff=2048, dropout=0.1,
                         positions="relative", norm="rmsnorm", activation="relu", bias=False),
    # T5's relative positions, started reading (init="reading": see "How T5 starts")
    "tiny": T5Config(context_length=128, n_layers=2, n_heads=4, d_model=96, d_ff=384, positions="relative",
                     init="reading", value_scale=4.0, neighbour_heads=True),
    # the paper's architecture at the tiny size, for comparison (`pretrain --model t5 --preset tiny-paper`)
    "tiny-paper": T5Config(context_length=128, n_layers=2, n_heads=4, d_model=96, d_ff=384, positions="relative",
                           norm="rmsnorm", activation="relu", bias=False),
    "micro": T5Config(vocab_size=32, context_length=16, n_layers=1, n_heads=2, d_model=16, d_ff=32),
}


def t5_config(preset: str = "tiny", **overrides) -> T5Config:
    return config_from_preset(T5_PRESETS, preset, "t5", overrides)


class T5(Module):
    def __init__(self, config: T5Config):
        super().__init__()
        self.config = c = config
        self.shared_embedding = Embedding(c.vocab_size, c.d_model)
        if c.positions not in POSITIONS:
            raise ValueError(f"T5 positions must be one of {POSITIONS}, got {c.positions!r}")
        if c.init not in INITS:
            raise ValueError(f"T5 init must be one of {INITS}, got {c.init!r}")
        if c.init == "reading" and c.positions != "relative":
            raise ValueError('T5 init="reading" starts the relative position bias local: it needs positions="relative"')
        if c.neighbour_heads and c.init != "reading":
            raise ValueError('T5 neighbour_heads=True is part of init="reading" (the encoder bias\'s start); '
                             f'it does nothing with init={c.init!r}')
        if c.positions == "relative":  # one bias per stack, shared by its layers, as in T5
            self.encoder_position_bias = RelativePositionBias(c.n_heads, True, c.relative_buckets,
                                                              c.relative_max_distance)
            self.decoder_position_bias = RelativePositionBias(c.n_heads, False, c.relative_buckets,
                                                              c.relative_max_distance)
        else:
            self.encoder_positions = Embedding(c.context_length, c.d_model)
            self.decoder_positions = Embedding(c.context_length, c.d_model)
        self.dropout = Dropout(c.dropout)
        self.encoder = ModuleList(TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, pre_norm=True,
                                                   activation=c.activation, norm=c.norm, bias=c.bias)
                                  for _ in range(c.n_layers))
        self.encoder_ln = make_norm(c.norm, c.d_model, bias=c.bias)
        self.decoder = ModuleList(TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, pre_norm=True,
                                                   cross_attention=True, activation=c.activation, norm=c.norm,
                                                   bias=c.bias)
                                  for _ in range(c.n_layers))
        self.decoder_ln = make_norm(c.norm, c.d_model, bias=c.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's initialization (see init.py), residual projections scaled by depth; with
        init="reading", then the two changes of "How T5 starts" (the module docstring)."""
        init_weights(self, residual_layers=self.config.n_layers)
        if self.config.init == "reading":
            self.start_reading()

    def start_reading(self) -> None:
        """Make the decoder read its encoder from the first step:

        - cross-attention matches like with like: W_q = W_k = MATCH_SCALE * I, so a query scores
          each encoder position by how much it resembles the decoder position itself; the sentinel
          the decoder has just written finds the same sentinel in the input;
        - the encoder's position bias starts local, -slope_h * distance with slopes 2, 1, 1/2, ...
          (one per head), so each encoder position starts out holding its neighbours' text, which is
          what the first token of a span needs; with `neighbour_heads` (the tiny preset), heads 0 and
          1 start one-sided instead, on the token to the left and the token to the right
          (nn.neighbour_start): a sentinel then holds "what came before the gap" and "what comes
          after it" apart, where a two-sided head adds them into one sum;
        - the value path that carries that text, W_v and W_o of the encoder's self-attention and of
          the decoder's cross-attention, starts `value_scale` times GPT-2's size (4 in the tiny
          preset; 1 leaves it as GPT-2's).  The text goes through all four matrices in a row, so
          the gradient of each is scaled by the other three: at 0.02 each, the path is a chain of
          small factors that takes long to open (the saddle of a deep linear network).  That this
          is why it helps is a reading, not a measurement: at step 0 the larger path even blurs the
          like-with-like match (0.04-0.05 of the weight on the matching sentinel, near the even
          1/40, against 0.17 with value_scale=1: tests/test_relative_position.py), yet in training
          a head then locks on in every seed tried, against one in three with value_scale=1.
        """
        eye = np.eye(self.config.d_model) * MATCH_SCALE
        for block in self.decoder:
            block.cross_attn.q_proj.weight.data[...] = eye
            block.cross_attn.k_proj.weight.data[...] = eye
        value_paths = [block.cross_attn for block in self.decoder] + [block.attn for block in self.encoder]
        for attention in value_paths:
            attention.v_proj.weight.data *= self.config.value_scale
            attention.out_proj.weight.data *= self.config.value_scale
        n_heads = self.config.n_heads
        self.encoder_position_bias.start_local(*neighbour_start(n_heads) if self.config.neighbour_heads
                                               else (local_slopes(n_heads),))

    def encode(self, input_ids) -> tuple:
        """(memory (B, S, d), padding mask (B, S) True at padding) for the encoder input."""
        c = self.config
        ids = check_token_batch(input_ids, c.vocab_size, c.context_length, what="encoder input")
        padding = ids == c.pad_id
        T = ids.shape[1]
        x = self.shared_embedding(ids)
        bias = None
        if c.positions == "relative":
            bias = self.encoder_position_bias(T, T)
        else:
            x = x + self.encoder_positions(np.arange(T))
        x = self.dropout(x)
        for block in self.encoder:
            x = block(x, key_padding_mask=padding, position_bias=bias)
        return self.encoder_ln(x), padding

    def decode(self, decoder_ids, memory, memory_padding, caches=None) -> Tensor:
        """Logits (B, T, V) for the decoder input given the encoder's memory."""
        c = self.config
        start = caches[0][0].length if caches else 0
        ids = check_token_batch(decoder_ids, c.vocab_size, c.context_length - start, what="decoder input")
        if ids.shape[0] != memory.shape[0]:
            raise ValueError(f"batch sizes differ: encoder input has {memory.shape[0]} rows, "
                             f"decoder input has {ids.shape[0]}")
        T = ids.shape[1]
        x = self.shared_embedding(ids)
        bias = None
        if c.positions == "relative":  # queries start..start+T-1 (the newest, with a cache) see keys 0..start+T-1
            bias = self.decoder_position_bias(T, start + T, query_offset=start)
        else:
            x = x + self.decoder_positions(np.arange(start, start + T))
        x = self.dropout(x)
        for i, block in enumerate(self.decoder):
            self_cache, cross_cache = caches[i] if caches else (None, None)
            x = block(x, memory=memory, is_causal=True, memory_padding_mask=memory_padding,
                      cache=self_cache, cross_cache=cross_cache, position_bias=bias)
        x = self.decoder_ln(x)
        return F.linear(x, self.shared_embedding.weight)

    def shift_right(self, targets: np.ndarray) -> np.ndarray:
        """Decoder input = [start] + targets[:-1]: at step t the decoder sees the targets before t."""
        targets = np.asarray(targets)
        start = np.full((targets.shape[0], 1), self.config.pad_id, dtype=targets.dtype)
        return np.concatenate([start, np.where(targets[:, :-1] < 0, self.config.pad_id, targets[:, :-1])], axis=1)

    def forward(self, input_ids, targets=None, decoder_input_ids=None):
        """(logits (B, T, V), loss or None).  targets: (B, T) output ids, -100 where ignored (padding)."""
        if decoder_input_ids is None:
            if targets is None:
                raise ValueError("T5 needs targets or decoder_input_ids")
            decoder_input_ids = self.shift_right(targets)
        input_ids = np.asarray(input_ids)
        decoder_input_ids = np.asarray(decoder_input_ids)
        if input_ids.ndim == 2 and decoder_input_ids.ndim == 2 and input_ids.shape[0] != decoder_input_ids.shape[0]:
            raise ValueError(f"batch sizes differ: encoder input has {input_ids.shape[0]} rows, "
                             f"decoder input has {decoder_input_ids.shape[0]}")
        memory, padding = self.encode(input_ids)
        logits = self.decode(decoder_input_ids, memory, padding)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.config.vocab_size), np.asarray(targets).reshape(-1))
        return logits, loss

    @no_grad()
    def generate(self, input_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, stop_token: int | None = None, seed: int | None = None,
                 use_cache: bool = True, constrain=None) -> np.ndarray:
        """Decode up to max_new_tokens for each encoder input row; returns (B, new) ids (no start token).

        constrain(ids, logits): see generation.generate_tokens (ids include the start token)."""
        check_sampling_args(temperature, top_k, top_p)
        c = self.config
        if max_new_tokens >= c.context_length:
            raise ValueError(f"max_new_tokens={max_new_tokens} must be below the decoder's context of "
                             f"{c.context_length} tokens")
        rng = np.random.default_rng(seed) if seed is not None else None
        was_training = self.training
        self.eval()
        memory, padding = self.encode(input_ids)
        start = np.full((memory.shape[0], 1), c.pad_id, dtype=np.int64)
        caches = [(KVCache(), KVCache()) for _ in self.decoder] if use_cache else None

        def next_logits(out):  # with the cache, only the newest token is fed
            return self.decode(out[:, -1:] if use_cache else out, memory, padding, caches=caches).data[:, -1]

        out = generate_tokens(start, next_logits, max_new_tokens, temperature, top_k, top_p, stop_token, rng,
                              constrain)
        self.train(was_training)
        return out[:, 1:]

    @property
    def n_transformer_layers(self) -> int:
        """Attention layers of the encoder plus the decoder (for the FLOP count in flops.py)."""
        return len(self.encoder) + len(self.decoder)
