"""GPT: a decoder-only transformer pretrained by predicting the next token.

    tokens -> token embedding + position embedding
           -> n_layers x [x + attn(LN(x)) with a causal mask;  x + mlp(LN(x))]     (pre-norm)
           -> LN -> logits = x @ token_embedding^T                                  (tied)

The causal mask lets position t attend only to positions <= t, so one forward pass trains all T
next-token predictions of a sequence at once, and the same model can then generate text left to
right.  The output layer reuses the input embedding matrix ("tied" embeddings, Press & Wolf 2017):
a token's vector is both how it is read and how it is predicted, and it saves V x d parameters.

Presets follow the lecture: GPT-1 (Radford et al., 2018) had 12 layers, 768 wide, 12 heads,
3072 feed-forward, 512 tokens of context and a 40k-merge BPE vocabulary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .. import functional as F
from ..nn import Dropout, Embedding, KVCache, Module, ModuleList, TransformerBlock, make_norm
from ..tensor import Tensor, no_grad
from .generation import check_sampling_args, generate_tokens
from .init import config_from_preset, init_weights


@dataclass
class GPTConfig:
    vocab_size: int = 512
    context_length: int = 64
    n_layers: int = 4
    n_heads: int = 4
    d_model: int = 128
    d_ff: int = 512
    dropout: float = 0.0
    activation: str = "gelu_tanh"  # GPT-2's tanh-approximated GELU (faster); "gelu" is the exact one
    bias: bool = True  # False: no biases in Linear and LayerNorm layers, as nanoGPT's default
    norm: str = "layernorm"  # or "rmsnorm" (LLaMA's: no centering, no bias); see nn/normalization.py

    def to_dict(self) -> dict:
        return asdict(self)


GPT_PRESETS = {
    # the lecture's GPT-1: 117M parameters with its 40,478-token vocabulary
    "gpt1": GPTConfig(vocab_size=40478, context_length=512, n_layers=12, n_heads=12, d_model=768, d_ff=3072, dropout=0.1),
    # GPT-2 small, for comparison
    "gpt2": GPTConfig(vocab_size=50257, context_length=1024, n_layers=12, n_heads=12, d_model=768, d_ff=3072,
                      dropout=0.1, activation="gelu_tanh"),
    # nanoGPT's CPU recipe on tiny Shakespeare (character level)
    "nano": GPTConfig(vocab_size=65, context_length=64, n_layers=4, n_heads=4, d_model=128, d_ff=512),
    # trains on a laptop CPU in a few minutes
    "tiny": GPTConfig(context_length=64, n_layers=3, n_heads=4, d_model=96, d_ff=384),
    # for tests and quick lessons: seconds
    "micro": GPTConfig(vocab_size=32, context_length=16, n_layers=1, n_heads=2, d_model=16, d_ff=32),
}


def gpt_config(preset: str = "tiny", **overrides) -> GPTConfig:
    return config_from_preset(GPT_PRESETS, preset, "gpt", overrides)


def check_token_batch(ids, vocab_size: int, context_length: int, what: str = "input") -> np.ndarray:
    """ids as an int array (B, T) after checking shape, length and range (clear errors)."""
    ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if ids.ndim != 2:
        raise ValueError(f"{what} ids must be a (batch, time) array, got shape {ids.shape}; "
                         "for one sequence use ids[None, :]")
    if ids.shape[1] > context_length:
        raise ValueError(f"{what} sequence of length {ids.shape[1]} is longer than the model's context of "
                         f"{context_length} tokens; shorten it or use a model with a longer context")
    F.check_ids(ids, vocab_size)
    return ids


class GPT(Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        c = config
        self.token_embedding = Embedding(c.vocab_size, c.d_model)
        self.position_embedding = Embedding(c.context_length, c.d_model)
        self.dropout = Dropout(c.dropout)
        self.blocks = ModuleList(
            TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, pre_norm=True, activation=c.activation,
                             bias=c.bias, norm=c.norm)
            for _ in range(c.n_layers))
        self.ln_final = make_norm(c.norm, c.d_model, bias=c.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's initialization (see init.py), residual projections scaled by depth."""
        init_weights(self, residual_layers=self.config.n_layers)

    def hidden_states(self, ids, caches=None) -> Tensor:
        """The final layer-normed hidden state of every position, (B, T, d).

        caches: one KVCache per block, for generation: ids are then the *new* tokens only.
        """
        c = self.config
        start = caches[0].length if caches else 0
        ids = check_token_batch(ids, c.vocab_size, c.context_length - start)
        positions = np.arange(start, start + ids.shape[1])
        x = self.dropout(self.token_embedding(ids) + self.position_embedding(positions))
        for i, block in enumerate(self.blocks):
            x = block(x, is_causal=True, cache=caches[i] if caches else None)
        return self.ln_final(x)

    def forward(self, ids, targets=None, caches=None):
        """ids: (B, T) token ids.  Returns (logits (B, T, V), loss or None).

        targets: (B, T) next-token ids (-100 to ignore) -> mean cross-entropy loss.
        """
        c = self.config
        logits = F.linear(self.hidden_states(ids, caches), self.token_embedding.weight)  # tied output layer
        loss = None
        if targets is not None:
            targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
            loss = F.cross_entropy(logits.reshape(-1, c.vocab_size), targets.reshape(-1))
        return logits, loss

    def window_start(self, length: int) -> int:
        """Where the model's view of a text of `length` tokens begins, when generating.

        Within the context it sees everything (0).  Past it, the window jumps forward half a
        context at a time, so it always holds at least half a context of text.  Why jump instead
        of sliding one token per step (as nanoGPT does)?  Learned positions shift whenever the
        window moves, which invalidates the KV cache; jumping rebuilds it once every C/2 tokens
        instead of at every token.
        """
        context = self.config.context_length
        if length <= context:
            return 0
        hop = max(1, context // 2)
        return -(-(length - context) // hop) * hop  # round (length - context) up to a multiple of hop

    @no_grad()
    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, stop_token: int | None = None, seed: int | None = None,
                 use_cache: bool = True) -> np.ndarray:
        """Continue each row of `ids` (B, T) by up to max_new_tokens tokens; returns (B, T + new).

        With the cache, each step feeds only the newest token (the keys and values of the others
        are kept).  Past the context length the model sees a window of the latest tokens (see
        `window_start`); with or without the cache it sees exactly the same tokens.
        Stops early when every row has produced `stop_token`.
        """
        check_sampling_args(temperature, top_k, top_p)
        c = self.config
        ids = check_token_batch(ids, c.vocab_size, c.context_length, what="prompt")
        rng = np.random.default_rng(seed) if seed is not None else None
        caches, cache_start, fed = None, 0, 0  # the caches hold ids[:, cache_start:fed]

        def next_logits(ids):
            nonlocal caches, cache_start, fed
            start = self.window_start(ids.shape[1])
            if not use_cache:
                return self(ids[:, start:])[0].data[:, -1]
            if caches is None or start != cache_start:  # the window moved: positions changed
                caches, cache_start, fed = [KVCache() for _ in self.blocks], start, start
            logits, _ = self(ids[:, fed:], caches=caches)
            fed = ids.shape[1]
            return logits.data[:, -1]

        was_training = self.training
        self.eval()
        ids = generate_tokens(ids, next_logits, max_new_tokens, temperature, top_k, top_p, stop_token, rng)
        self.train(was_training)
        return ids

    @property
    def n_transformer_layers(self) -> int:
        """Attention layers a token passes through (for the FLOP count in flops.py)."""
        return len(self.blocks)
