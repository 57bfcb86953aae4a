"""BERT: a bidirectional encoder pretrained by filling in masked words (Devlin et al., 2019).

    tokens -> LN(word + position + segment embeddings)
           -> n_layers x [x = LN(x + attn(x));  x = LN(x + mlp(x))]      (post-norm, no causal mask)
           -> hidden states (B, T, d)
    heads:  MLM:    LN(gelu(dense(h))) @ word_embeddings^T + bias        (tied decoder)
            pooler: tanh(dense(h[:, 0]))  — the [CLS] position, for sentence-level tasks
            classifier: pooler -> dropout -> Linear(d, num_labels)

Every position sees every other (no causal mask): that is what makes BERT's representations good
for understanding tasks, and also why it cannot generate: it has no left-to-right factorization of
p(text) to sample from, and at a position it sees the very token it would have to predict.

Names map one-to-one onto Hugging Face's `BertModel` through `HF_BERT_NAMES` below, so real BERT
checkpoints load without transposes (Linear weights are (out, in) in both).

Pretraining recipe.  The config's defaults are the paper's architecture (they load real BERTs;
the `tiny-paper` preset is it at the tiny size).  On a laptop budget (1500 steps of 16 windows of
64 tokens, 3 layers, 96 wide), that architecture barely leaves the unigram plateau, so the `tiny`
preset departs from it in five measured ways.  Held-out masked-token NLL (15% masking) below a
unigram fitted on the training split (5.30 nats; 5.37 for the 2500-step rows), built-in corpus,
lr 3e-3 unless said:

    the paper's BERT, lr 1e-3 (the old default), 300 steps                      0.12 nats
    the paper's BERT, 300 steps                                                  0.25
      + pre-norm, or ln_eps 1e-5 for 1e-12, or N(0, 0.1) init: no better        0.25, 0.12*, 0.10*
      - the MLM head's transform (dense, GELU, LayerNorm), 300 steps             0.51
      - the transform, 40% masking, 1500 steps (stalls after ~500)              0.73
      pre-norm, - transform, 40%, 1500 steps                                     0.72
      pre-norm, - embedding LayerNorm (segment embedding kept), 300 steps        0.02  (stuck)
    pre-norm, - embedding LN, - segment embedding, - transform, 40%, 1500       0.88
      + GPT-2's depth-scaled init                                                1.02  (top-1 16% vs 3.9%)
      the same, 2500 steps (the default since)                                   1.61  (top-1 23%)
      + T5's relative position bias, absolute embeddings kept, 2500 steps        2.91  (top-1 45%)
      + relative bias started local (local_start), absolute kept, 2500 steps     3.07  (top-1 48%)
    tiny: relative bias started local, no absolute embeddings, 2500 steps       3.11  (top-1 49%)
    (* at lr 1e-3; the 2500-step rows are seed 0 of `pretrain --model bert`)

Why each one.  With a single segment, the segment embedding is one vector added at every
position: its gradient sums over all of them, so Adam moves it by about lr every step, and without
a LayerNorm after the embeddings it soon drowns the word and position signal (every position looks
alike: the model sits exactly at the unigram).  A pre-norm stack normalizes each sublayer's input
anyway, and the one LayerNorm left at the end (ln_f) gives the head a normalized input.  The
head's transform puts a freshly initialized dense layer and a LayerNorm between the encoder and the
tied output; at this width it kept the model at the unigram.  40% masking (Wettig et al., 2022,
"Should You Mask 15% in Masked Language Modeling?") gives 2.7x the predictions per step; the
MaskedLM task scores at 15% whatever it trains with, so the numbers compare.

The biggest step is positions.  What a masked token needs first is its neighbours, and with an
embedding per absolute position "the token just left of me" is a different direction in every
position, which each head must learn 62 times over from a weak signal.  T5's relative bias
(nn/relative_position.py) makes it one number per head and distance, the same everywhere, and the
local start (-slope x distance, ALiBi's penalty, slopes 2, 1, 1/2, 1/4) has every head reading its
neighbours at step 0; the learned embeddings then add nothing.  On a task where every token is fixed
by its neighbours (runs of consecutive ids, `python benchmarks/neighbours_task.py`, lr 3e-3), the
masked loss after 400 steps is 1.08 with absolute positions, 1.00 with the relative bias started at
zero and 0.05 started local; GPT, whose causal mask already says which side is left, is at 0.03
after 50 steps.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from .. import functional as F
from ..nn import (POSITIONS, Dropout, Embedding, Linear, Module, ModuleList, Parameter, RelativePositionBias,
                  TransformerBlock, local_slopes, make_norm)
from ..tensor import Tensor
from .gpt import check_token_batch
from .init import config_from_preset, init_weights


@dataclass
class BertConfig:
    vocab_size: int = 512
    context_length: int = 128  # max_position_embeddings
    n_layers: int = 2
    n_heads: int = 4
    d_model: int = 128
    d_ff: int = 512
    type_vocab_size: int = 2
    dropout: float = 0.1
    ln_eps: float = 1e-12
    num_labels: int = 0  # > 0 adds a sequence-classification head
    initializer_range: float = 0.02  # std of the N(0, std) initial weights (Hugging Face's name)
    norm: str = "layernorm"  # or "rmsnorm" (no centering, no bias); see nn/normalization.py
    activation: str = "gelu"  # of the feed-forward blocks (Hugging Face's hidden_act)
    # The paper's BERT (True, True, True, False): these defaults load real checkpoints.  The tiny
    # preset departs from all four, and from the absolute positions below, because each one
    # measurably stalls masked-LM pretraining of a 96-wide model on a laptop budget (see
    # "Pretraining recipe" in this module's docstring).
    embedding_norm: bool = True  # LayerNorm after word + position + segment embeddings
    mlm_head_transform: bool = True  # dense + GELU + LayerNorm before the tied output layer
    segment_embeddings: bool = True  # a learned vector per segment (token type), for [CLS] A [SEP] B [SEP]
    pre_norm: bool = False  # x + f(LN(x)) blocks and a final LayerNorm, instead of LN(x + f(x))
    # Where tokens are: the paper's learned embedding per position, or T5's relative position bias
    # (nn/relative_position.py), which the tiny preset uses: "look one to the left" is then one
    # number per head, the same at every position (see "Pretraining recipe" above).
    positions: str = "absolute"
    relative_buckets: int = 32
    relative_max_distance: int = 128
    local_start: bool = False  # the relative bias starts as ALiBi's -slope x distance (nearby tokens first)

    def to_dict(self) -> dict:
        return asdict(self)


BERT_PRESETS = {
    "bert-base": BertConfig(vocab_size=30522, context_length=512, n_layers=12, n_heads=12, d_model=768, d_ff=3072),
    # sentence-transformers' all-MiniLM-L6-v2 (loadable with pretrained.py)
    "minilm-l6": BertConfig(vocab_size=30522, context_length=512, n_layers=6, n_heads=12, d_model=384, d_ff=1536),
    # the paper's architecture at the tiny size, for comparison (`pretrain --model bert --preset tiny-paper`)
    "tiny-paper": BertConfig(context_length=64, n_layers=3, n_heads=4, d_model=96, d_ff=384, dropout=0.0),
    # what pretrains in minutes here: the five departures of "Pretraining recipe" (the module docstring)
    "tiny": BertConfig(context_length=64, n_layers=3, n_heads=4, d_model=96, d_ff=384, dropout=0.0, ln_eps=1e-5,
                       embedding_norm=False, mlm_head_transform=False, segment_embeddings=False, pre_norm=True,
                       positions="relative", local_start=True),
    "micro": BertConfig(vocab_size=32, context_length=16, n_layers=1, n_heads=2, d_model=16, d_ff=32, dropout=0.0),
}


# The tiny preset's departures from the paper's architecture (BertConfig's defaults), each as a
# reader sees it: `pretrain` names them when it starts, and export_bert refuses them.
PAPER_DEPARTURES = {
    "positions": "T5's relative positions",
    "local_start": "started local",
    "pre_norm": "pre-norm blocks",
    "embedding_norm": "no embedding LayerNorm",
    "segment_embeddings": "no segment embeddings",
    "mlm_head_transform": "no transform in the MLM head",
}


def departures_from_paper(config: BertConfig) -> list:
    """The PAPER_DEPARTURES fields where `config` is not the paper's BERT, in that order."""
    paper = BertConfig()
    return [name for name in PAPER_DEPARTURES if getattr(config, name) != getattr(paper, name)]


def bert_config(preset: str = "tiny", **overrides) -> BertConfig:
    return config_from_preset(BERT_PRESETS, preset, "bert", overrides)


class BertEmbeddings(Module):
    """word [+ position] [+ segment (token type)] embeddings, [then LayerNorm], then dropout.

    With relative positions there is no position embedding: the attention scores carry the
    positions instead (BERT.position_bias)."""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = Embedding(c.vocab_size, c.d_model)
        self.position_embeddings = Embedding(c.context_length, c.d_model) if c.positions == "absolute" else None
        self.token_type_embeddings = Embedding(c.type_vocab_size, c.d_model) if c.segment_embeddings else None
        self.ln = make_norm(c.norm, c.d_model, eps=c.ln_eps) if c.embedding_norm else None
        self.dropout = Dropout(c.dropout)

    def forward(self, ids, token_type_ids):
        x = self.word_embeddings(ids)
        if self.position_embeddings is not None:
            x = x + self.position_embeddings(np.arange(ids.shape[1]))
        if self.token_type_embeddings is not None:
            x = x + self.token_type_embeddings(token_type_ids)
        if self.ln is not None:
            x = self.ln(x)
        return self.dropout(x)


class MLMHead(Module):
    """Predicts the original token at every position: [transform, then] the tied word embeddings."""

    def __init__(self, c: BertConfig, word_embeddings: Embedding):
        super().__init__()
        self.dense = Linear(c.d_model, c.d_model) if c.mlm_head_transform else None
        self.ln = make_norm(c.norm, c.d_model, eps=c.ln_eps) if c.mlm_head_transform else None
        self.bias = Parameter(np.zeros(c.vocab_size, np.float32))
        self._word_embeddings = [word_embeddings]  # a list: shared, not registered twice

    def forward(self, hidden):
        h = hidden if self.dense is None else self.ln(F.gelu(self.dense(hidden)))
        return F.linear(h, self._word_embeddings[0].weight, self.bias)


class BERT(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = c = config
        if c.positions not in POSITIONS:
            raise ValueError(f"BERT positions must be one of {POSITIONS}, got {c.positions!r}")
        if c.local_start and c.positions != "relative":
            raise ValueError("BERT local_start=True starts the relative position bias local: it needs positions='relative'")
        self.embeddings = BertEmbeddings(c)
        self.position_bias = (RelativePositionBias(c.n_heads, True, c.relative_buckets, c.relative_max_distance)
                              if c.positions == "relative" else None)
        self.blocks = ModuleList(
            TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, pre_norm=c.pre_norm, ln_eps=c.ln_eps,
                             activation=c.activation, norm=c.norm)
            for _ in range(c.n_layers))
        # pre-norm leaves the residual stream unnormalized: one LayerNorm at the end, as GPT-2's ln_f
        self.ln_f = make_norm(c.norm, c.d_model, eps=c.ln_eps) if c.pre_norm else None
        self.pooler = Linear(c.d_model, c.d_model)
        self.mlm_head = MLMHead(c, self.embeddings.word_embeddings)
        self.classifier = Linear(c.d_model, c.num_labels) if c.num_labels else None
        self.classifier_dropout = Dropout(c.dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """BERT's initialization: N(0, initializer_range) weights, zero biases, unit norm gains.

        A pre-norm BERT adds every sublayer's output straight into the residual stream, as GPT-2
        does, so it also takes GPT-2's depth scaling of those projections (models/init.py).
        """
        c = self.config
        init_weights(self, residual_layers=c.n_layers if c.pre_norm else None, std=c.initializer_range)
        if c.local_start:
            self.position_bias.start_local(local_slopes(c.n_heads))

    def forward(self, ids, token_type_ids=None, attention_mask=None) -> Tensor:
        """Hidden states (B, T, d).  attention_mask: (B, T), 1 for real tokens and 0 for padding
        (Hugging Face's convention); padding is never attended to."""
        c = self.config
        ids = check_token_batch(ids, c.vocab_size, c.context_length)
        if token_type_ids is None:
            token_type_ids = np.zeros_like(ids)
        token_type_ids = np.asarray(token_type_ids)
        if token_type_ids.shape != ids.shape:
            raise ValueError(f"token_type_ids shape {token_type_ids.shape} != ids shape {ids.shape}")
        padding = None
        if attention_mask is not None:
            attention_mask = np.asarray(attention_mask)
            if attention_mask.shape != ids.shape:
                raise ValueError(f"attention_mask shape {attention_mask.shape} != ids shape {ids.shape}")
            padding = attention_mask == 0
        x = self.embeddings(ids, token_type_ids)
        bias = self.position_bias(ids.shape[1], ids.shape[1]) if self.position_bias is not None else None
        for block in self.blocks:
            x = block(x, key_padding_mask=padding, position_bias=bias)
        return x if self.ln_f is None else self.ln_f(x)

    def mlm(self, ids, labels=None, token_type_ids=None, attention_mask=None):
        """Masked-language-model logits (B, T, V) and, given labels (-100 = not masked), the loss."""
        logits = self.mlm_head(self(ids, token_type_ids, attention_mask))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.config.vocab_size), np.asarray(labels).reshape(-1))
        return logits, loss

    def pooled(self, hidden: Tensor) -> Tensor:
        """tanh(dense(h_[CLS])): BERT's sentence summary, trained by next-sentence prediction."""
        return self.pooler(hidden[:, 0]).tanh()

    def classify(self, ids, labels=None, token_type_ids=None, attention_mask=None):
        """Sequence-classification logits (B, num_labels) from the pooled [CLS], and the loss."""
        if self.classifier is None:
            raise ValueError("this BERT has no classifier: build it with num_labels > 0 "
                             "(or call add_classifier(num_labels))")
        pooled = self.pooled(self(ids, token_type_ids, attention_mask))
        logits = self.classifier(self.classifier_dropout(pooled))
        loss = F.cross_entropy(logits, np.asarray(labels)) if labels is not None else None
        return logits, loss

    def add_classifier(self, num_labels: int) -> None:
        """A fresh classification head (N(0, 0.02) weights), e.g. on top of pretrained weights."""
        self.config = replace(self.config, num_labels=num_labels)
        self.classifier = Linear(self.config.d_model, num_labels)
        init_weights(self.classifier)

    @property
    def n_transformer_layers(self) -> int:
        """Attention layers a token passes through (for the FLOP count in flops.py)."""
        return len(self.blocks)

    def generate(self, *args, **kwargs):
        raise TypeError(
            "BERT cannot generate text: it is an encoder trained to fill in masked tokens using context on "
            "both sides, so it defines no left-to-right distribution p(next token | previous tokens) to "
            "sample from. Use a decoder (GPT) or an encoder-decoder (T5) to generate; use BERT's mlm() "
            "to guess masked words.")


# Our parameter names -> Hugging Face BertModel / BertForMaskedLM names ("bert." prefix omitted).
HF_BERT_NAMES = [
    (r"embeddings\.word_embeddings\.weight", "embeddings.word_embeddings.weight"),
    (r"embeddings\.position_embeddings\.weight", "embeddings.position_embeddings.weight"),
    (r"embeddings\.token_type_embeddings\.weight", "embeddings.token_type_embeddings.weight"),
    (r"embeddings\.ln\.(weight|bias)", r"embeddings.LayerNorm.\1"),
    (r"blocks\.(\d+)\.attn\.q_proj\.(weight|bias)", r"encoder.layer.\1.attention.self.query.\2"),
    (r"blocks\.(\d+)\.attn\.k_proj\.(weight|bias)", r"encoder.layer.\1.attention.self.key.\2"),
    (r"blocks\.(\d+)\.attn\.v_proj\.(weight|bias)", r"encoder.layer.\1.attention.self.value.\2"),
    (r"blocks\.(\d+)\.attn\.out_proj\.(weight|bias)", r"encoder.layer.\1.attention.output.dense.\2"),
    (r"blocks\.(\d+)\.ln_attn\.(weight|bias)", r"encoder.layer.\1.attention.output.LayerNorm.\2"),
    (r"blocks\.(\d+)\.mlp\.fc1\.(weight|bias)", r"encoder.layer.\1.intermediate.dense.\2"),
    (r"blocks\.(\d+)\.mlp\.fc2\.(weight|bias)", r"encoder.layer.\1.output.dense.\2"),
    (r"blocks\.(\d+)\.ln_mlp\.(weight|bias)", r"encoder.layer.\1.output.LayerNorm.\2"),
    (r"pooler\.(weight|bias)", r"pooler.dense.\1"),
    (r"mlm_head\.dense\.(weight|bias)", r"cls.predictions.transform.dense.\1"),
    (r"mlm_head\.ln\.(weight|bias)", r"cls.predictions.transform.LayerNorm.\1"),
    (r"mlm_head\.bias", "cls.predictions.bias"),
    (r"classifier\.(weight|bias)", r"classifier.\1"),
]


def to_hf_name(name: str) -> str:
    """Our parameter name -> the Hugging Face BERT name (see HF_BERT_NAMES)."""
    for pattern, replacement in HF_BERT_NAMES:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(f"no Hugging Face name for BERT parameter {name!r}")
