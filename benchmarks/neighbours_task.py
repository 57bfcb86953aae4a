"""The neighbours task: can a model use the tokens next to a gap?  (issue 15's clue)

Every row is a run of consecutive ids (5, 6, 7, ... wrapping round a vocabulary of 60), so each
token is fixed by either neighbour.  GPT predicts the next token; BERT predicts the 15% it masks
(80/10/10).  A bidirectional model that can find its neighbours should solve it in a few hundred
steps.  Printed: the training loss at steps 50, 100, 200 and 400 (context 32, batch 16, AdamW, no
weight decay), for the tiny GPT and the tiny BERT with three kinds of positions.

    python benchmarks/neighbours_task.py            # about a minute on one core

Measured (seed 0, lr 3e-3): GPT 0.03 at step 50; BERT with absolute position embeddings 1.08 at
step 400, with T5's relative bias started at zero 1.00, with it started local (the tiny preset)
0.05.  models/bert.py ("Pretraining recipe") says why.
"""

from __future__ import annotations

import argparse

import numpy as np

import minitransformer as mt
from minitransformer.models import BERT, GPT, bert_config, gpt_config
from minitransformer.objectives.masked_lm import mask_tokens
from minitransformer.optim import AdamW

VOCAB, CONTEXT, BATCH = 60, 32, 16
FIRST_ID = 5  # ids 0-4 are left for special tokens; 4 is [MASK]
REPORT_AT = (50, 100, 200, 400)


def consecutive_rows(rng) -> np.ndarray:
    """(BATCH, CONTEXT + 1) runs of consecutive ids, each from a random start."""
    start = rng.integers(FIRST_ID, VOCAB, BATCH)[:, None]
    return FIRST_ID + (start - FIRST_ID + np.arange(CONTEXT + 1)) % (VOCAB - FIRST_ID)


def losses(kind: str, lr: float, seed: int = 0, until: int = max(REPORT_AT), **bert_overrides) -> dict:
    """{step: training loss} at the REPORT_AT steps up to `until` (tests/test_relative_position.py runs 200)."""
    mt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    if kind == "gpt":
        model = GPT(gpt_config("tiny", vocab_size=VOCAB, context_length=CONTEXT))
    else:
        model = BERT(bert_config("tiny", vocab_size=VOCAB, context_length=CONTEXT, **bert_overrides))
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    seen = {}
    for step in range(1, until + 1):
        rows = consecutive_rows(rng)
        if kind == "gpt":
            loss = model(rows[:, :-1], rows[:, 1:])[1]
        else:
            inputs, labels = mask_tokens(rows[:, :-1], VOCAB, 4, list(range(FIRST_ID)), rng, mask_prob=0.15)
            loss = model.mlm(inputs, labels)[1]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in REPORT_AT:
            seen[step] = loss.item()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3, 3e-3])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    contenders = [("GPT (next token)", "gpt", {}),
                  ("BERT, absolute positions", "bert", {"positions": "absolute", "local_start": False}),
                  ("BERT, relative bias from zero", "bert", {"positions": "relative", "local_start": False}),
                  ("BERT, relative bias started local (tiny)", "bert", {})]
    print(f"{'loss at step':42}" + "".join(f"{step:>8}" for step in REPORT_AT))
    for lr in args.lr:
        print(f"lr {lr:g}")
        for name, kind, overrides in contenders:
            seen = losses(kind, lr, args.seed, **overrides)
            print(f"  {name:40}" + "".join(f"{seen[step]:8.2f}" for step in REPORT_AT))


if __name__ == "__main__":
    main()
