"""Pretrain once, fine-tune many times: SGD from a pretrained minimum on a labelled task.

The lecture's point: pretraining leaves the weights near parameters that already encode a lot
about language, so fine-tuning with plain SGD — small steps, no adaptive tricks — "just works",
and works far better than the same SGD budget from random initialization.

How each model classifies (a small new head on top of the pretrained network); each classifier
class below also says how its model family frames an example (`frame`):
- BERT: `[CLS] text [SEP]` (pairs: `[CLS] a [SEP] b [SEP]`, segment ids 0/1); the pooled [CLS]
  vector -> linear layer.  Loss: cross-entropy.
- GPT, as GPT-1 did: `text <|endoftext|>` (pairs: `a [SEP] b <|endoftext|>`); the hidden state of
  the last token -> linear layer.  Loss: task cross-entropy + lambda * language-model loss on the
  same text, lambda = 0.5 (Radford et al., 2018, section 3.2), which keeps the LM skills while
  the head learns.

The loop itself (SGD with momentum, the head's own learning rate, linear decay, the per-epoch
log of task loss, LM loss and accuracies) is in finetune_loop.py.

Data: a CSV/TSV file with a header naming a `text` column (or `text_a` and `text_b` for sentence
pairs) and a `label` column; or the built-in acceptability task (below).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import functional as F
from .corpus import builtin_corpus
from .files import check_input_file
from .models import BERT, GPT, MODEL_TYPES, model_type, model_type_of
from .models.init import init_weights
from .nn import Linear, Module
from .objectives import causal_lm_targets
from .finetune_loop import accuracy, finetune  # noqa: F401  (the loop lives in finetune_loop.py)

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
    """A CSV or TSV (by extension, or sniffed) with columns text[,text_b]/text_a,text_b and label.

    Every row must have as many fields as the header and a label; a row that does not is an error
    naming its line (csv would otherwise fill the gap with None or drop the extra fields).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset not found: {path}")
    header, rows = _read_table(check_input_file(path, "dataset"))
    columns = set(header)
    first = "text_a" if "text_a" in columns else "text"
    second = "text_b" if "text_b" in columns else None
    if first not in columns or "label" not in columns:
        raise ValueError(f"{path}: needs a header with 'text' (or 'text_a'/'text_b') and 'label' columns, "
                         f"found {header}")
    if not rows:
        raise ValueError(f"{path}: no data rows (the first line must be a header such as text,label)")
    for line, row in rows:
        if not row["label"].strip():
            raise ValueError(f"{path}, line {line}: the label is empty; give every row a label")
    names = sorted({row["label"] for _, row in rows})
    if len(names) < 2:
        raise ValueError(f"{path}: needs at least two different labels, found {names}")
    labels = np.array([names.index(row["label"]) for _, row in rows])
    return LabelledData([row[first] for _, row in rows], [row[second] for _, row in rows] if second else None,
                        labels, names)


def _read_table(path: Path) -> tuple:
    """(header, [(line number, {column: field})]) of a UTF-8 CSV or TSV file; blank lines are skipped."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            sample = f.read(4096)
            if "\0" in sample:
                raise ValueError(f"{path} contains NUL bytes: it looks like a binary file, not a CSV/TSV")
            f.seek(0)
            delimiter = "\t" if path.suffix == ".tsv" or sample.count("\t") > sample.count(",") else ","
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, [])
            if len(set(header)) != len(header):
                raise ValueError(f"{path}: the header {header} names a column twice")
            rows = []
            for fields in reader:
                if not fields:
                    continue
                if len(fields) != len(header):
                    kind = "tab" if delimiter == "\t" else "comma"
                    raise ValueError(f"{path}, line {reader.line_num}: {len(fields)} fields, but the header has "
                                     f"{len(header)}; quote a field that holds a {kind}")
                rows.append((reader.line_num, dict(zip(header, fields))))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text (byte {error.start}: {error.reason}); "
                         "convert it to UTF-8 first") from None
    except csv.Error as error:  # a NUL byte, an unclosed quote, a field of megabytes
        raise ValueError(f"{path}: not a readable CSV/TSV file ({error})") from None
    return header, rows


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
    """The built-in task as (training, held-out) data; see acceptability_splits."""
    train, _, test = acceptability_splits(seed, validation=0.0)
    return train, test


def acceptability_splits(seed: int = 0, validation: float = 0.1) -> tuple:
    """(training, validation, held-out) data of the built-in task: is this real text (1), or the
    same ten words in reverse order (0)?

    Word order is exactly what a language model learns in pretraining and a randomly initialized
    classifier has to discover from scratch.  Every run of words appears twice, as written and
    reversed, so the two labels hold exactly the same words: no bag of words, and no memorizing
    of which passages are real, can tell them apart.  (Reversal rather than a random shuffle: at
    this scale a tiny model fine-tuned with SGD separates reversed text reliably, shuffled text
    barely.)  Examples are ten-word runs of the built-in corpus's prose: training runs from its
    first 90%, a `validation` fraction of them set apart (for choosing an epoch), held-out runs
    from its last 10% (the part pretraining holds out too).  A validation or held-out run whose
    words also form a training run is left out (the help text repeats some passages).
    """
    if not 0.0 <= validation < 1.0:
        raise ValueError(f"acceptability_splits: validation must be a fraction in [0, 1), got {validation!r}")
    rng = np.random.default_rng(seed)
    text = builtin_corpus()
    cut = int(len(text) * 0.9)
    windows = _prose_windows(text[:cut])
    order = rng.permutation(len(windows))
    n_val = int(len(windows) * validation)
    train_windows = [windows[i] for i in sorted(order[n_val:])]
    seen = {tuple(sorted(words)) for words in train_windows}

    def unseen(runs):
        return [words for words in runs if tuple(sorted(words)) not in seen]

    val_windows = unseen(windows[i] for i in sorted(order[:n_val]))
    test_windows = unseen(_prose_windows(text[cut:]))
    return tuple(_both_ways(runs, rng) for runs in (train_windows, val_windows, test_windows))


def _both_ways(windows: list, rng) -> LabelledData:
    """Each run of words as written (label 1) and reversed (label 0), in a shuffled order."""
    texts = [" ".join(words) for words in windows] + [" ".join(words[::-1]) for words in windows]
    labels = np.array([1] * len(windows) + [0] * len(windows), dtype=np.int64)
    order = rng.permutation(len(texts))
    return LabelledData([texts[i] for i in order], None, labels[order], ["reversed", "real"])


def load_task(task: str, test: str | None, seed: int, validation: float = 0.1) -> tuple:
    """(train, validation, held-out) data: the built-in task by name, or a file.

    A file's held-out part is `test`, or else a random 20% of its rows.  The validation part is a
    random `validation` fraction of the training rows (None when that leaves fewer than 10 rows):
    it chooses the best epoch, so that the held-out accuracy reported for that epoch was not
    used to choose anything.
    """
    if task == "acceptability":
        return acceptability_splits(seed, validation=validation)
    data = read_labelled_file(task)
    rng = np.random.default_rng(seed)
    if test:
        train, held_out = data, _with_labels_of(data, read_labelled_file(test), task, test)
    else:
        order = rng.permutation(len(data))
        cut = int(len(data) * 0.8)
        train, held_out = data.subset(order[:cut]), data.subset(order[cut:])
    n_val = int(len(train) * validation)
    if n_val < 10:
        return train, None, held_out
    order = rng.permutation(len(train))
    return train.subset(sorted(order[n_val:])), train.subset(sorted(order[:n_val])), held_out


def _with_labels_of(train: LabelledData, test: LabelledData, train_name, test_name) -> LabelledData:
    """`test` with its labels numbered as `train` numbers them (each file sorts its own label names)."""
    unknown = sorted(set(test.label_names) - set(train.label_names))
    if unknown:
        raise ValueError(f"{test_name}: labels {unknown} do not occur in {train_name} "
                         f"(its labels: {train.label_names})")
    labels = np.array([train.label_names.index(test.label_names[i]) for i in test.labels])
    return LabelledData(test.texts_a, test.texts_b, labels, train.label_names)


# --------------------------------------------------------------------------------------------
# Classifiers on top of pretrained models, one per model family
# --------------------------------------------------------------------------------------------


class ExampleBatch(NamedTuple):
    """Padded examples: ids and segment ids (B, T), and each row's real length (B,)."""

    ids: np.ndarray
    token_types: np.ndarray
    lengths: np.ndarray


class GPTClassifier(Module):
    """GPT-1's fine-tuning: a linear head on the last token's hidden state, plus the LM loss."""

    model_class = GPT

    def __init__(self, gpt: GPT, num_labels: int, lm_weight: float = GPT1_LM_WEIGHT):
        super().__init__()
        self.gpt = gpt
        self.head = Linear(gpt.config.d_model, num_labels)
        init_weights(self.head)
        self.lm_weight = lm_weight

    @property
    def head_lr_scale(self) -> float:
        """1 / d: the head reads a layer-normed state, |h|^2 >= d (finetune_loop.py says why)."""
        return 1.0 / self.gpt.config.d_model

    @staticmethod
    def frame(a: list, b: list | None, special) -> tuple:
        """a ([SEP] b) <|endoftext|>: the last token, whose state the head reads, sees the whole text."""
        ids = a + ([special("[SEP]")] + b if b is not None else []) + [special("<|endoftext|>")]
        return ids, [0] * len(ids)

    def forward(self, ids, lengths, labels=None, pad_id=0):
        """(logits (B, num_labels), loss = task loss + lm_weight * LM loss, or None without labels)."""
        logits, task_loss, lm_loss = self.loss_terms(ids, lengths, labels, pad_id)
        return logits, None if labels is None else task_loss + self.lm_weight * lm_loss

    def loss_terms(self, ids, lengths, labels=None, pad_id=0) -> tuple:
        """(logits, task cross-entropy, next-token LM loss on the same text): the two parts of the
        loss apart, so that each can be watched; both None without labels."""
        hidden = self.gpt.hidden_states(ids)
        last = hidden[np.arange(len(ids)), np.asarray(lengths) - 1]  # the extract token
        logits = self.head(last)
        if labels is None:
            return logits, None, None
        lm_logits = F.linear(hidden, self.gpt.token_embedding.weight)
        lm_targets = causal_lm_targets(ids, pad_id=pad_id)
        lm_loss = F.cross_entropy(lm_logits.reshape(-1, self.gpt.config.vocab_size), lm_targets.reshape(-1))
        return logits, F.cross_entropy(logits, np.asarray(labels)), lm_loss

    def batch_losses(self, batch: ExampleBatch, labels, pad_id: int) -> tuple:
        """(logits, loss, {"task_loss": float, "lm_loss": float}): what the fine-tuning loop asks of
        every classifier, the loss to minimize and its parts for the log."""
        logits, task_loss, lm_loss = self.loss_terms(batch.ids, batch.lengths, labels, pad_id)
        return logits, task_loss + self.lm_weight * lm_loss, {"task_loss": task_loss.item(), "lm_loss": lm_loss.item()}

    def batch_loss(self, batch: ExampleBatch, labels, pad_id: int):
        """(logits, loss) of a batch; loss is None without labels."""
        return self(batch.ids, batch.lengths, labels, pad_id=pad_id)


class BERTClassifier(Module):
    """BERT's fine-tuning: the pooled [CLS] vector -> a linear head."""

    model_class = BERT

    def __init__(self, bert: BERT, num_labels: int):
        super().__init__()
        bert.add_classifier(num_labels)
        self.bert = bert

    @staticmethod
    def frame(a: list, b: list | None, special) -> tuple:
        """[CLS] a [SEP] (b [SEP]), with segment id 0 for the first part and 1 for the second."""
        ids = [special("[CLS]")] + a + [special("[SEP]")]
        types = [0] * len(ids)
        if b is not None:
            extra = b + [special("[SEP]")]
            ids, types = ids + extra, types + [1] * len(extra)
        return ids, types

    def forward(self, ids, token_types, attention_mask, labels=None):
        return self.bert.classify(ids, labels, token_type_ids=token_types, attention_mask=attention_mask)

    @property
    def head(self) -> Linear:
        """The new layer on top of the pretrained network (the fine-tuning loop gives it its own rate)."""
        return self.bert.classifier

    head_lr_scale = 1.0  # the head reads the pooled tanh vector, |h|^2 far below d (finetune_loop.py)

    def batch_loss(self, batch: ExampleBatch, labels, pad_id: int):
        """(logits, loss) of a batch; the attention mask (1 = real token) comes from the lengths."""
        mask = (np.arange(batch.ids.shape[1])[None, :] < batch.lengths[:, None]).astype(np.int64)
        return self(batch.ids, batch.token_types, mask, labels)

    def batch_losses(self, batch: ExampleBatch, labels, pad_id: int) -> tuple:
        """(logits, loss, {"task_loss": float}): BERT's loss is the task's alone."""
        logits, loss = self.batch_loss(batch, labels, pad_id)
        return logits, loss, {"task_loss": loss.item()}


CLASSIFIERS = (GPTClassifier, BERTClassifier)


def classifier_class_for(model_or_class) -> type | None:
    """The classifier that fine-tunes this model (or model class); None if there is none."""
    model_class = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    return next((c for c in CLASSIFIERS if issubclass(model_class, c.model_class)), None)


def check_finetunable(model) -> type:
    """The classifier class for `model`, or an error naming the model types that can be fine-tuned."""
    classifier = classifier_class_for(model)
    if classifier is None:
        supported = [kind for kind, (model_class, _, _) in MODEL_TYPES.items() if classifier_class_for(model_class)]
        raise ValueError(f"finetune supports {' and '.join(supported)} checkpoints, not {model_type_of(model)!r}")
    return classifier


def classifier_for(model, num_labels: int) -> Module:
    """A fresh classification head of `num_labels` classes on top of `model`."""
    return check_finetunable(model)(model, num_labels)


class ExampleEncoder:
    """Turns (text_a, text_b) into padded id arrays in the format a model family was fine-tuned with.

    Any tokenizer with tokenize(text) and token_to_id(token) works (BPE, WordPiece); `frame`
    is the family's layout, e.g. GPTClassifier.frame.  `pad_id` is the id of [PAD], or of
    <|endoftext|> for a tokenizer without one (GPT-2's: Hugging Face pads GPT-2 with it too).
    """

    def __init__(self, tokenizer, frame, context_length: int):
        self.tokenizer, self.frame, self.context = tokenizer, frame, context_length
        self.pad_id = tokenizer.token_to_id("[PAD]" if "[PAD]" in tokenizer.special_tokens else "<|endoftext|>")

    @classmethod
    def for_model(cls, model, tokenizer) -> "ExampleEncoder":
        return cls(tokenizer, check_finetunable(model).frame, model.config.context_length)

    def text_ids(self, text: str) -> list:
        """The ids of `text` alone: its tokens looked up one by one, so no tokenizer adds a frame of its
        own (WordPiece's encode, as Hugging Face's, would already add [CLS] and [SEP])."""
        return [self.tokenizer.token_to_id(token) for token in self.tokenizer.tokenize(text)]

    def encode_one(self, a: str, b: str | None) -> tuple:
        """(ids, segment ids) of one example."""
        b_ids = None if b is None else self.text_ids(b)
        return self.frame(self.text_ids(a), b_ids, self.tokenizer.token_to_id)

    def _checked(self, ids, types, row: int) -> tuple:
        if len(ids) > self.context:
            raise ValueError(f"example {row} is {len(ids)} tokens, longer than the model's context of "
                             f"{self.context}; shorten it or remove it from the dataset")
        return ids, types

    def batch(self, data: LabelledData, index) -> ExampleBatch:
        encoded = [self._checked(*self.encode_one(data.texts_a[i], None if data.texts_b is None else data.texts_b[i]), i)
                   for i in index]
        width = max(len(ids) for ids, _ in encoded)
        ids = np.full((len(encoded), width), self.pad_id, dtype=np.int64)
        types = np.zeros_like(ids)
        lengths = np.array([len(i) for i, _ in encoded])
        for row, (i, t) in enumerate(encoded):
            ids[row, :len(i)], types[row, :len(t)] = i, t
        return ExampleBatch(ids, types, lengths)


def BPEExampleEncoder(tokenizer, kind: str, context_length: int) -> ExampleEncoder:
    """The encoder for the model type named `kind` ('gpt' or 'bert'); kept for older code."""
    return ExampleEncoder(tokenizer, check_finetunable(model_type(kind)[0]).frame, context_length)


def WordPieceExampleEncoder(tokenizer, context_length: int) -> ExampleEncoder:
    """The encoder for a real pretrained BERT; kept for older code."""
    return ExampleEncoder(tokenizer, BERTClassifier.frame, context_length)
