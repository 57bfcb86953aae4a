"""Reliability (issue 16): every bad input is one clear line, no file can exhaust the machine, nothing is lost.

Most cases are rows of a table: a command line, with {placeholders} for the files the `world`
fixture makes, and the words its error must contain.  Each runs `main` in-process and must give
exit status 2, exactly one line on stderr that starts with "error: " and names the problem, no
traceback, and leave the run folder's checkpoint byte-identical.  What needs a real process runs
in one: signals, memory limits (resource.setrlimit, so that a regression fails instead of
swapping the machine) and file-size limits.  Two bounded hypothesis fuzzers at the end feed
mutated checkpoints and tokenizer files to the readers: only our own errors, and no more memory
than the file could justify.
"""

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import checkpoint
from minitransformer.cli import main
from minitransformer.corpus import builtin_corpus, read_corpus
from minitransformer.files import SaveError, atomic_open, atomic_write_bytes, remove_stale_temp_files
from minitransformer.models import BERT, MODEL_TYPES, bert_config, build_model
from minitransformer.models.bert import to_hf_name
from minitransformer.models.size import parameter_lower_bound
from minitransformer.pretrain import load_trained
from minitransformer.safetensors import CheckpointError, save_file
from minitransformer.tokenizers import BPETokenizer, TokenizerFileError

FAST = ["--preset", "micro", "--vocab-size", "300", "--batch-size", "2", "--log-every", "1", "--eval-every", "2",
        "--eval-batches", "1", "--warmup", "1", "--samples", "0"]
DEEP = "[" * 100_000 + "]" * 100_000  # more nesting than Python's JSON parser can follow


# ------------------------------------------------------------------------------------------ files


def read_safetensors(path: Path) -> tuple:
    """(header dict, data bytes) of a safetensors file."""
    blob = path.read_bytes()
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


def raw_safetensors(path: Path, header_text: str, data: bytes = b"") -> Path:
    header = header_text.encode("utf-8")
    header += b" " * (-len(header) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def tampered(source: Path, target: Path, meta=None, optimizer=None, metadata_text=None) -> Path:
    """A copy of the checkpoint `source` whose metadata (a dict, changed in place by `meta`) or
    optimizer header (by `optimizer`) were edited, as a hand-edited or damaged file would be."""
    header, data = read_safetensors(source)
    strings = header["__metadata__"]
    if meta is not None:
        document = json.loads(strings["metadata"])
        meta(document)
        strings["metadata"] = json.dumps(document)
    if optimizer is not None:
        document = json.loads(strings["optimizer"])
        optimizer(document)
        strings["optimizer"] = json.dumps(document)
    if metadata_text is not None:
        strings["metadata"] = metadata_text
    target.parent.mkdir(parents=True, exist_ok=True)
    return raw_safetensors(target, json.dumps(header), data)


def hf_bert_folder(folder: Path, config_changes=None, extra_tensors=None) -> Path:
    """A tiny Hugging Face style BERT folder (config.json, model.safetensors, vocab.txt)."""
    model = BERT(bert_config("micro"))
    c = model.config
    config = {"model_type": "bert", "vocab_size": c.vocab_size, "max_position_embeddings": c.context_length,
              "num_hidden_layers": c.n_layers, "num_attention_heads": c.n_heads, "hidden_size": c.d_model,
              "intermediate_size": c.d_ff, **(config_changes or {})}
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tensors = {to_hf_name(name): p.data for name, p in model.named_parameters()}
    save_file({**tensors, **(extra_tensors or {})}, folder / "model.safetensors")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefgh"]) + "\n")
    return folder


def temp_files(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def log_records(folder: Path) -> list:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# ------------------------------------------------------------------------------------------ the world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished 2-step micro GPT run and every good and bad file the cases below point at."""
    root = tmp_path_factory.mktemp("world")
    w = SimpleNamespace(root=root)
    w.corpus = root / "corpus.txt"
    w.corpus.write_text(builtin_corpus()[:20000], encoding="utf-8")
    w.gpt = root / "gpt"
    assert main(["pretrain", "--corpus", str(w.corpus), "--steps", "2", "--out", str(w.gpt), *FAST]) == 0
    w.ckpt = w.gpt / "checkpoint.safetensors"
    w.dir = root / "a_folder"
    w.dir.mkdir()
    w.file = root / "a_file.txt"
    w.file.write_text("just a file\n")
    w.tok = root / "tok.json"
    assert main(["tokenizer", "train", "--corpus", str(w.corpus), "--vocab-size", "280", "--out", str(w.tok)]) == 0
    nocls = BPETokenizer(kind="byte")
    nocls.train([w.corpus.read_text()], vocab_size=270, special_tokens=["[PAD]"])
    w.nocls_tok = root / "nocls.json"
    nocls.save(w.nocls_tok)
    w.deep_tok = root / "deep_tok.json"
    w.deep_tok.write_text('{"format": ' + DEEP + "}")
    w.hidden_only = root / "hidden_only"
    (w.hidden_only / ".git").mkdir(parents=True)
    (w.hidden_only / ".git" / "notes.txt").write_text("hidden text")

    rows = "\n".join(f"{'a good sentence' if i % 2 else 'sentence good a'},{i % 2}" for i in range(20))
    w.csv = root / "task.csv"
    w.csv.write_text("text,label\n" + rows + "\n")
    w.short_row_csv = root / "short_row.csv"
    w.short_row_csv.write_text("text,label\nfine text,1\njust text\nmore text,0\n")
    w.long_row_csv = root / "long_row.csv"
    w.long_row_csv.write_text("text,label\nfine text,1\nan, unquoted comma,0\nmore text,0\n")
    w.latin1_csv = root / "latin1.csv"
    w.latin1_csv.write_bytes("text,label\ncaf\u00e9 cr\u00e8me,1\nplain,0\n".encode("latin-1"))
    w.empty_label_csv = root / "empty_label.csv"
    w.empty_label_csv.write_text("text,label\nsome text,1\nother text,\nmore text,0\n")
    w.nul_csv = root / "nul.csv"
    w.nul_csv.write_bytes(b"text,label\nsome\x00text,1\nmore,0\n")
    w.other_labels_csv = root / "other_labels.csv"
    w.other_labels_csv.write_text("text,label\nsome text,yes\nother text,no\n")
    w.twice_csv = root / "twice.csv"
    w.twice_csv.write_text("text,label,label\nsome text,1,0\nother text,0,1\n")

    def bad(name, **edits):
        return tampered(w.ckpt, root / "tampered" / name / "checkpoint.safetensors", **edits)

    def config(**changes):
        return {"meta": lambda m: m["model_config"].update(changes)}

    w.t = {
        "no_step": bad("no_step", meta=lambda m: m.pop("step")),
        "no_data_rng": bad("no_data_rng", meta=lambda m: m.pop("data_rng")),
        "bad_data_rng": bad("bad_data_rng", meta=lambda m: m.update(data_rng={"bit_generator": "MT19937"})),
        "step_text": bad("step_text", meta=lambda m: m.update(step="three")),
        "no_scalar_state": bad("no_scalar_state", optimizer=lambda o: o.pop("scalar_state")),
        "groups_text": bad("groups_text", optimizer=lambda o: o.update(param_groups="all")),
        "n_heads_0": bad("n_heads_0", **config(n_heads=0)),
        "n_heads_3": bad("n_heads_3", **config(n_heads=3)),
        "n_layers_-1": bad("n_layers_-1", **config(n_layers=-1)),
        "vocab_float": bad("vocab_float", **config(vocab_size=1.5)),
        "dropout_text": bad("dropout_text", **config(dropout="abc")),
        "dropout_nan": bad("dropout_nan", **config(dropout=float("nan"))),
        "unknown_field": bad("unknown_field", **config(n_experts=8)),
        "config_list": bad("config_list", meta=lambda m: m.update(model_config=[1, 2])),
        "type_list": bad("type_list", meta=lambda m: m.update(model_type=["gpt"])),
        "type_t6": bad("type_t6", meta=lambda m: m.update(model_type="t6")),
        "tokenizer_list": bad("tokenizer_list", meta=lambda m: m.update(tokenizer=[])),
        "small_vocab": bad("small_vocab", **config(vocab_size=100)),
        "meta_list": bad("meta_list", metadata_text="[1, 2, 3]"),
        "deep_meta": bad("deep_meta", metadata_text=DEEP),
        "steps_0": bad("steps_0", meta=lambda m: m["train_config"].update(steps=0, log_every=0)),
        "vocab_2m": bad("vocab_2m", **config(vocab_size=2_000_000, d_model=1024, n_heads=8)),
        "vocab_1e12": bad("vocab_1e12", **config(vocab_size=10**12)),
        "layers_1e7": bad("layers_1e7", **config(n_layers=10**7)),
        "context_1e9": bad("context_1e9", **config(context_length=10**9)),
        # the training split's token counts, which `evaluate` compares with
        "counts_short": bad("counts_short", meta=lambda m: m.update(unigram_counts=[1, 2, 3])),
        "counts_text": bad("counts_text", meta=lambda m: m.update(unigram_counts="many")),
        "counts_negative": bad("counts_negative", meta=lambda m: m["unigram_counts"].__setitem__(5, -1)),
        "counts_float": bad("counts_float", meta=lambda m: m["unigram_counts"].__setitem__(0, 2.5)),
        "counts_huge": bad("counts_huge", meta=lambda m: m["unigram_counts"].__setitem__(7, 10**30)),
        "counts_bool": bad("counts_bool", meta=lambda m: m["unigram_counts"].__setitem__(1, True)),
        "counts_nested": bad("counts_nested", meta=lambda m: m["unigram_counts"].__setitem__(2, [1])),
    }
    header, data = read_safetensors(w.ckpt)  # a checkpoint whose weights are NaN (old code saved such)
    name = "token_embedding.weight"
    begin, end = header[name]["data_offsets"]
    nan_data = data[:begin] + np.full((end - begin) // 4, np.nan, np.float32).tobytes() + data[end:]
    w.t["nan_weights"] = raw_safetensors(root / "tampered" / "nan_weights" / "checkpoint.safetensors",
                                         json.dumps(header), nan_data)
    def one_tensor(name, shape_text, size):  # a file with one F32 tensor "w" of this (raw JSON) shape
        header = '{"w":{"dtype":"F32","shape":' + shape_text + ',"data_offsets":[0,' + str(size) + "]}}"
        return raw_safetensors(root / f"{name}.safetensors", header, b"\0" * size)

    w.t["digits"] = one_tensor("digits", "[" + "9" * 5000 + "]", 4)
    w.t["dims"] = one_tensor("dims", json.dumps([1] * 100), 4)
    w.t["huge_shape"] = one_tensor("huge_shape", json.dumps([2**62, 2**62, 0]), 0)
    w.t["deep_header"] = raw_safetensors(root / "deep_header.safetensors", '{"w":' + DEEP + "}")
    odd_name = {"two\nlines\u2028": {"dtype": "X", "shape": [], "data_offsets": [0, 0]}}  # a name that breaks lines
    w.t["newline_name"] = raw_safetensors(root / "newline_name.safetensors", json.dumps(odd_name))
    return w


class Paths(dict):
    """The placeholders of a case: the world's files, and {new}: a fresh path each time it is used."""

    def __init__(self, w):
        super().__init__(corpus=w.corpus, gpt=w.gpt, ckpt=w.ckpt, dir=w.dir, file=w.file, tok=w.tok,
                         nocls_tok=w.nocls_tok, deep_tok=w.deep_tok, hidden_only=w.hidden_only,
                         **{k: v for k, v in vars(w).items() if k.endswith("_csv") or k == "csv"},
                         **{f"t_{k}": v for k, v in w.t.items()},
                         **{f"f_{k}": v.parent for k, v in w.t.items()})
        self.root = w.root

    def __getitem__(self, key):
        if key == "new":
            return self.root / "new" / uuid.uuid4().hex[:8]
        return super().__getitem__(key)


def argv(template: str, w) -> list:
    return [part.format_map(Paths(w)) for part in template.split()]


def run_cli(args: list, capsys) -> tuple:
    try:
        code = main(args)
    except SystemExit as exit:  # argparse stops this way
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_clear_line(code, err, fragments, status=2):
    lines = err.strip().splitlines()
    assert code == status, (code, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err, err
    for fragment in (fragments,) if isinstance(fragments, str) else fragments:
        assert fragment in lines[0], (fragment, lines[0])


PRETRAIN = "pretrain --corpus {corpus} --out {new} --preset micro --vocab-size 300 --steps 2"
GENERATE = "generate --checkpoint {ckpt} --max-new-tokens 4"
FINETUNE = "finetune --checkpoint {ckpt} --task {csv} --epochs 1"

CLI_CASES = [
    # -- 3. a folder where a file is expected, --out that is a file or under one, a device ---------
    ("generate --checkpoint {dir}", ("a_folder", "is a folder")),
    ("tokenizer encode --tokenizer {dir} hello", ("a_folder", "is a folder")),
    ("pretrain --corpus {corpus} --tokenizer {dir} --out {new}", ("a_folder", "is a folder")),
    ("finetune --checkpoint {dir}", ("a_folder", "is a folder")),
    ("finetune --checkpoint {ckpt} --task {dir}", ("a_folder", "is a folder")),
    ("tokenizer train --corpus {corpus} --out {dir}", ("a_folder", "is a folder")),
    ("finetune --checkpoint {ckpt} --out {dir}", ("a_folder", "is a folder")),
    ("pretrain --corpus {corpus} --out {file}", ("a_file.txt", "is a file, not a folder")),
    ("pretrain --corpus {corpus} --out {file}/run", ("a_file.txt", "is a file, not a folder")),
    ("tokenizer train --corpus {corpus} --out {file}/tok.json", ("a_file.txt", "is a file, not a folder")),
    ("finetune --checkpoint {ckpt} --out {file}/clf.safetensors", ("a_file.txt", "is a file, not a folder")),
    ("pretrain --corpus /dev/zero --out {new}", ("/dev/zero", "not a regular file")),
    ("tokenizer encode --tokenizer /dev/zero hello", ("/dev/zero", "not a regular file")),
    ("generate --checkpoint /dev/zero", ("/dev/zero", "not a regular file")),
    ("finetune --checkpoint {ckpt} --task /dev/zero", ("/dev/zero", "not a regular file")),
    ("pretrain --corpus {hidden_only} --out {new}", ("hidden_only", "has no files")),
    ("pretrain --corpus {dir} --out {new}", ("a_folder", "has no files")),
    # -- 3. zero counts (ZeroDivisionError), missing special tokens, deep JSON, damaged metadata --
    (PRETRAIN + " --log-every 0", ("--log-every", "positive integer", "'0'")),
    (PRETRAIN + " --eval-every 0", ("--eval-every", "positive integer")),
    (PRETRAIN + " --checkpoint-every 0", ("--checkpoint-every", "positive integer")),
    (PRETRAIN + " --grad-accum 0", ("--grad-accum", "positive integer")),
    ("pretrain --model bert --tokenizer {nocls_tok} --corpus {corpus} --out {new} --preset micro", "[CLS]"),
    ("tokenizer encode --tokenizer {deep_tok} hello", ("deep_tok.json", "nested too deeply")),
    ("pretrain --corpus {corpus} --tokenizer {deep_tok} --out {new}", ("deep_tok.json", "nested too deeply")),
    ("generate --checkpoint {t_deep_header}", ("deep_header.safetensors", "nested too deeply")),
    ("generate --checkpoint {t_deep_meta}", ("deep_meta", "nested too deeply")),
    ("pretrain --corpus {corpus} --resume --steps 3 --out {f_no_step}", ("no_step", "lacks 'step'")),
    ("pretrain --corpus {corpus} --resume --steps 3 --out {f_no_data_rng}", ("no_data_rng", "lacks 'data_rng'")),
    ("pretrain --corpus {corpus} --resume --steps 3 --out {f_bad_data_rng}", ("bad_data_rng", "cannot resume")),
    ("pretrain --corpus {corpus} --resume --steps 3 --out {f_step_text}", ("step_text", "step must be an integer")),
    ("pretrain --corpus {corpus} --resume --steps 3 --out {f_steps_0}",
     ("steps_0", "train_config", "positive integer")),
    ("generate --checkpoint {t_no_scalar_state}", ("no_scalar_state", "scalar_state")),
    ("generate --checkpoint {t_groups_text}", ("groups_text", "param_groups")),
    ("generate --checkpoint {t_n_heads_0}", ("n_heads_0", "n_heads must be a positive integer, got 0")),
    ("tokenizer encode --tokenizer {t_n_heads_0} hello", ("n_heads_0", "n_heads")),
    # -- 4. values that were accepted silently ---------------------------------------------------
    (PRETRAIN + " --grad-clip -1", ("--grad-clip", ">= 0", "'-1'")),
    (PRETRAIN + " --context 0", ("--context", "positive integer")),
    ("info --vocab-size 0", ("--vocab-size", "positive integer")),
    (PRETRAIN + " --eval-batches 0", ("--eval-batches", "positive integer")),
    (GENERATE + " --temperature nan", ("--temperature", "finite", "'nan'")),
    ("generate --checkpoint {ckpt} --max-new-tokens -5", ("--max-new-tokens", "positive integer")),
    (GENERATE + " --num-samples 0", ("--num-samples", "positive integer")),
    (FINETUNE + " --batch-size -3", ("--batch-size", "positive integer")),
    (FINETUNE + " --max-train -2", ("--max-train", "positive integer")),
    (FINETUNE + " --max-train 0", ("--max-train", "positive integer")),
    (PRETRAIN + " --lr nan", ("--lr", "finite number > 0")),
    (PRETRAIN + " --lr -1", ("--lr", "finite number > 0")),
    (PRETRAIN + " --lr inf", ("--lr", "finite number > 0")),
    (PRETRAIN + " --dropout 1.5", ("--dropout", "[0, 1)")),
    (GENERATE + " --top-p 0", ("--top-p", "(0, 1]")),
    (GENERATE + " --top-p 1.5", ("--top-p", "(0, 1]")),
    (GENERATE + " --top-k 0", ("--top-k", "positive integer")),
    (GENERATE + " --temperature -1", ("--temperature", ">= 0")),
    (GENERATE + " --seed -1", ("--seed", ">= 0")),
    (PRETRAIN.replace("--steps 2", "--steps 0"), ("--steps", "positive integer")),
    (PRETRAIN.replace("--steps 2", "--steps -1"), ("--steps", "positive integer")),
    (PRETRAIN.replace("--steps 2", "--steps two"), ("--steps", "'two'")),
    (PRETRAIN + " --batch-size 0", ("--batch-size", "positive integer")),
    (PRETRAIN + " --warmup -1", ("--warmup", ">= 0")),
    (PRETRAIN + " --weight-decay nan", ("--weight-decay", "finite")),
    (PRETRAIN + " --min-lr -1", ("--min-lr", ">= 0")),
    (PRETRAIN + " --seed -1", ("--seed", ">= 0")),
    (PRETRAIN + " --samples -1", ("--samples", ">= 0")),
    (FINETUNE + " --momentum 1", ("--momentum", "[0, 1)")),
    (FINETUNE + " --lr 0", ("--lr", "> 0")),
    (FINETUNE + " --head-lr 0", ("--head-lr", "> 0")),
    (FINETUNE + " --head-lr -0.1", ("--head-lr", "> 0")),
    (FINETUNE + " --head-lr nan", ("--head-lr", "finite number > 0")),
    (FINETUNE + " --head-lr inf", ("--head-lr", "finite number > 0")),
    (FINETUNE + " --head-lr fast", ("--head-lr", "fast")),
    ("tokenizer train --corpus {corpus} --vocab-size 0 --out {new}", ("--vocab-size", "positive integer")),
    ("info --batch-size 0", ("--batch-size", "positive integer")),
    ("info --model gpt3", ("--model", "invalid choice")),
    (PRETRAIN + " --stepz 3", ("unrecognized arguments", "--stepz")),
    # -- 5. errors that said nothing useful -----------------------------------------------------
    ("pretrain --corpus {corpus} --resume --out {gpt}", ("gpt", "finished, at step 2 of 2", "--steps")),
    (FINETUNE.replace("--epochs 1", "--epochs 0"), ("--epochs", "positive integer")),
    (FINETUNE + " --batch-size 0", ("--batch-size", "positive integer")),
    (PRETRAIN + " --context -5", ("--context", "positive integer", "'-5'")),
    (PRETRAIN.replace("--vocab-size 300", "--vocab-size -5"), ("--vocab-size", "positive integer")),
    ("finetune --checkpoint {ckpt} --task {short_row_csv}", ("short_row.csv", "line 3", "1 fields")),
    ("finetune --checkpoint {ckpt} --task {long_row_csv}", ("long_row.csv", "line 3", "3 fields", "quote")),
    ("finetune --checkpoint {ckpt} --task {latin1_csv}", ("latin1.csv", "not UTF-8")),
    ("finetune --checkpoint {ckpt} --task {empty_label_csv}", ("empty_label.csv", "line 3", "label is empty")),
    ("finetune --checkpoint {ckpt} --task {nul_csv}", ("nul.csv", "NUL bytes")),
    ("finetune --checkpoint {ckpt} --task {twice_csv}", ("twice.csv", "twice")),
    ("finetune --checkpoint {ckpt} --task {csv} --test {other_labels_csv}", ("other_labels.csv", "do not occur")),
    ("generate --checkpoint {t_type_list}", ("type_list", "unknown model type ['gpt']")),
    ("generate --checkpoint {t_type_t6}", ("type_t6", "unknown model type 't6'")),
    ("generate --checkpoint {t_n_layers_-1}", ("n_layers_-1", "n_layers must be an integer >= 0, got -1")),
    ("generate --checkpoint {t_n_heads_3}", ("n_heads_3", "not divisible by n_heads 3")),
    ("generate --checkpoint {t_vocab_float}", ("vocab_float", "vocab_size must be a positive integer, got 1.5")),
    ("generate --checkpoint {t_dropout_text}", ("dropout_text", "dropout must be a probability")),
    ("generate --checkpoint {t_dropout_nan}", ("dropout_nan", "dropout must be a probability")),
    ("generate --checkpoint {t_unknown_field}", ("unknown_field", "unknown field(s) ['n_experts']")),
    ("generate --checkpoint {t_config_list}", ("config_list", "must be a JSON object")),
    ("generate --checkpoint {t_tokenizer_list}", ("tokenizer_list", "tokenizer data")),
    ("generate --checkpoint {t_small_vocab}", ("small_vocab", "its tokenizer has 300 tokens")),
    ("generate --checkpoint {t_meta_list}", ("meta_list", "must be a JSON object")),
    ("generate --checkpoint {t_nan_weights}", ("nan_weights", "NaN or inf", "token_embedding.weight")),
    ("evaluate --checkpoint {t_counts_short}", ("counts_short", "unigram_counts must be 300 whole", "a list of 3")),
    ("evaluate --checkpoint {t_counts_text}", ("counts_text", "unigram_counts must be 300", "got 'many'")),
    ("evaluate --checkpoint {t_counts_negative}", ("counts_negative", "unigram_counts[5] is -1")),
    ("evaluate --checkpoint {t_counts_float}", ("counts_float", "unigram_counts[0] is 2.5")),
    ("evaluate --checkpoint {t_counts_huge}", ("counts_huge", "unigram_counts[7] is 1000000000000000000000000000000")),
    ("evaluate --checkpoint {t_counts_bool}", ("counts_bool", "unigram_counts[1] is True")),
    ("generate --checkpoint {t_counts_nested}", ("counts_nested", "unigram_counts[2] is [1]")),
    ("generate --checkpoint {t_digits}", ("digits.safetensors", "digits")),
    ("generate --checkpoint {t_dims}", ("dims.safetensors", "100 dimensions")),
    ("generate --checkpoint {t_huge_shape}", ("huge_shape.safetensors", "more elements")),
    ("generate --checkpoint {t_newline_name}", ("newline_name.safetensors", "two\\nlines\\u2028", "dtype 'X'")),
    ("generate --checkpoint {t_vocab_2m}", ("vocab_2m", "vocab_size=2000000", "does not belong")),
    ("generate --checkpoint {t_layers_1e7}", ("layers_1e7", "n_layers=10000000", "does not belong")),
    # -- 7. nothing lost, nothing surprising ------------------------------------------------------
    ("pretrain --corpus {corpus} --out {gpt}", ("already holds a run", "--resume", "--overwrite")),
    ("pretrain --corpus {corpus} --out {dir} --resume", ("a_folder", "holds no checkpoint.safetensors")),
    ("pretrain --corpus {corpus} --out {gpt} --resume --overwrite", "pass one of them"),
    ("pretrain --corpus {corpus} --out {gpt} --resume --context 8", ("--context", "cannot change a run")),
]


@pytest.mark.parametrize("template, fragments", CLI_CASES, ids=[case[0] for case in CLI_CASES])
def test_a_bad_input_is_one_clear_line_and_loses_nothing(world, capsys, template, fragments):
    before = world.ckpt.read_bytes()
    code, out, err = run_cli(argv(template, world), capsys)
    assert_one_clear_line(code, err, fragments)
    assert world.ckpt.read_bytes() == before
    assert "step " not in out  # refused before any training


def test_there_are_eighty_or_more_table_cases():
    assert len(CLI_CASES) >= 80


# ------------------------------------------------------------------------------------------ 1. divergence


def test_a_checkpoint_is_never_saved_with_non_finite_weights(world, tmp_path, capsys, monkeypatch):
    """An update can make the weights NaN while the loss that step was finite: that step is not saved."""
    import minitransformer.train as train_module

    real_step = train_module.Trainer.clip_and_step

    def step_that_breaks_the_weights(self):
        norm = real_step(self)
        if self.step == 1:  # the update of the second step (counted from 0 here)
            next(iter(self.model.parameters())).data[0] = np.nan
        return norm

    monkeypatch.setattr(train_module.Trainer, "clip_and_step", step_that_breaks_the_weights)
    folder = tmp_path / "run"
    code, out, err = run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(folder), "--steps", "4",
                              "--checkpoint-every", "1", *FAST], capsys)
    assert_one_clear_line(code, err, ("after step 2", "NaN or inf", "saved at step 1", "is kept"))
    assert checkpoint.load(folder / "checkpoint.safetensors").metadata["step"] == 1
    load_trained(folder / "checkpoint.safetensors")  # finite, so it loads


def test_a_diverging_run_keeps_a_finite_checkpoint_and_one_line(world, tmp_path, capsys):
    folder = tmp_path / "diverged"
    code, _, err = run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(folder), "--steps", "30",
                            "--lr", "1e6", "--grad-clip", "0", "--checkpoint-every", "1", *FAST], capsys)
    assert_one_clear_line(code, err, ("stopped", "Try a lower --lr"))
    weights = checkpoint.load(folder / "checkpoint.safetensors").weights
    assert all(np.isfinite(a).all() for a in weights.values())
    assert run_cli(["generate", "--checkpoint", str(folder / "checkpoint.safetensors"), "--max-new-tokens", "3"],
                   capsys)[0] == 0


def test_the_nan_message_counts_steps_as_the_log_does(world, tmp_path, capsys, monkeypatch):
    import minitransformer.train as train_module

    real_loss = train_module.CausalLM.loss
    calls = []

    def loss(self, model, batch):
        calls.append(model.training)
        value = real_loss(self, model, batch)
        return value * float("nan") if calls.count(True) == 3 and model.training else value

    monkeypatch.setattr(train_module.CausalLM, "loss", loss)
    folder = tmp_path / "nan"
    code, _, err = run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(folder), "--steps", "5",
                            "--checkpoint-every", "1", "--workers", "1", *FAST], capsys)  # the patch: this process only
    assert_one_clear_line(code, err, ("the loss became nan at step 3", "saved at step 2"))
    assert [r["step"] for r in log_records(folder) if "train_loss" in r] == [1, 2]


# ------------------------------------------------------------------------------------------ 2. memory and CPU

RUNNER = textwrap.dedent("""
    import contextlib, io, json, resource, sys, traceback
    limits = json.loads(sys.argv[1])
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
    from minitransformer.cli import main
    from minitransformer.pretrained import load_bert_folder
    results = []
    for job in json.loads(sys.argv[2]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                if "hf" in job:
                    load_bert_folder(job["hf"])
                    code = 0
                else:
                    code = main(job["argv"])
            except SystemExit as exit:
                code = exit.code
            except Exception as error:  # a library call: its error type and one-line message
                code = type(error).__name__
                err.write(f"error: {error}\\n" if "hf" in job else traceback.format_exc())
            except BaseException:
                code = "crash"
                err.write(traceback.format_exc())
        results.append({"code": code, "err": err.getvalue()})
    print(json.dumps(results))
""")


def run_limited(jobs: list, limits: dict, timeout: int = 240) -> list:
    """Run `jobs` (CLI argv lists, or {"hf": folder}) in one subprocess under resource limits."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(limits), json.dumps(jobs)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_no_file_or_flag_can_exhaust_memory_or_cpu(world, tmp_path):
    """Under a 2 GiB address-space limit and a CPU-time limit: each case is one line, quickly."""
    hf_layers = hf_bert_folder(tmp_path / "hf_layers", {"num_hidden_layers": 10**7})
    hf_vocab = hf_bert_folder(tmp_path / "hf_vocab", {"vocab_size": 10**11})
    hf_eps = hf_bert_folder(tmp_path / "hf_eps", {"layer_norm_eps": "tiny"})
    hf_drop = hf_bert_folder(tmp_path / "hf_drop", {"hidden_dropout_prob": [0.1]})
    hf_cls = hf_bert_folder(tmp_path / "hf_cls", extra_tensors={"classifier.weight": np.array(1.0, np.float32)})
    cases = [
        ({"argv": ["generate", "--checkpoint", str(world.t["vocab_2m"])]}, ("vocab_2m", "does not belong")),
        ({"argv": ["generate", "--checkpoint", str(world.t["vocab_1e12"])]},
         ("vocab_1e12", "vocab_size=1000000000000")),
        ({"argv": ["generate", "--checkpoint", str(world.t["layers_1e7"])]}, ("layers_1e7", "n_layers=10000000")),
        ({"argv": ["generate", "--checkpoint", str(world.t["context_1e9"])]},
         ("context_1e9", "context_length=1000000000")),
        ({"argv": ["info", "--vocab-size", "100000000000"]}, ("vocab_size=100000000000", "TiB", "memory")),
        ({"argv": ["info", "--preset", "gpt2", "--vocab-size", "1000000"]},  # 3 GiB: too much for the 2 GiB limit only
         ("GiB", "this process's memory limit")),
        ({"argv": ["pretrain", "--corpus", str(world.corpus), "--out", str(tmp_path / "ctx"), "--preset", "micro",
                   "--vocab-size", "300", "--context", "1000000000"]}, ("context_length=1000000000", "memory")),
        ({"hf": str(hf_layers)}, ("config.json", "n_layers=10000000", "model.safetensors", "does not belong")),
        ({"hf": str(hf_vocab)}, ("config.json", "vocab_size=100000000000", "does not belong")),
        ({"hf": str(hf_eps)}, ("hf_eps/config.json", "layer_norm_eps must be a number > 0", "'tiny'")),
        ({"hf": str(hf_drop)}, ("hf_drop/config.json", "hidden_dropout_prob", "[0.1]")),
        ({"hf": str(hf_cls)}, ("hf_cls/model.safetensors", "'classifier.weight' has shape ()")),
    ]
    results = run_limited([job for job, _ in cases], {"RLIMIT_AS": 2 * 2**30, "RLIMIT_CPU": 120})
    for (job, fragments), result in zip(cases, results):
        expected = "PretrainedFormatError" if "hf" in job else 2
        assert_one_clear_line(result["code"], result["err"], fragments, status=expected)


def test_the_size_bound_holds_for_every_preset():
    """The bound never exceeds a real model's size (so it never refuses a model that fits) and is close."""
    for kind, (_, _, presets) in MODEL_TYPES.items():
        for preset in ("micro", "tiny"):
            model = build_model(kind, preset)
            bound, actual = parameter_lower_bound(model.config), model.num_parameters()
            assert 0.4 * actual <= bound <= actual, (kind, preset, bound, actual)


# ------------------------------------------------------------------------------------------ 3. files and signals


@contextlib.contextmanager
def as_unprivileged():
    """Permissions as an ordinary user meets them: root may read and write anything, so a test run
    as root drops its effective ids to 'nobody' (restored afterwards)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def locked(world):
    """A world-readable folder with unreadable files and an unwritable folder in it."""
    folder = Path(tempfile.mkdtemp(prefix="mt-locked-"))
    os.chmod(folder, 0o755)
    paths = SimpleNamespace(folder=folder)
    for name, source in (("corpus", world.corpus), ("ckpt", world.ckpt), ("tok", world.tok), ("csv", world.csv)):
        readable = folder / f"readable_{Path(source).name}"
        shutil.copy(source, readable)
        os.chmod(readable, 0o644)
        unreadable = folder / f"unreadable_{Path(source).name}"
        shutil.copy(source, unreadable)
        os.chmod(unreadable, 0)
        setattr(paths, name, readable)
        setattr(paths, f"no_{name}", unreadable)
    paths.ro, paths.rw = folder / "read_only", folder / "writable"
    paths.ro.mkdir()
    paths.rw.mkdir()
    os.chmod(paths.ro, 0o555)
    os.chmod(paths.rw, 0o777)
    yield paths
    os.chmod(paths.ro, 0o755)
    shutil.rmtree(folder)


PERMISSION_CASES = [
    ("pretrain --corpus {no_corpus} --out {ro}/run", ("read_only", "cannot write there", "permission denied")),
    ("pretrain --corpus {no_corpus} --out {rw}/run{n}", ("unreadable_corpus.txt", "permission denied")),
    ("generate --checkpoint {no_ckpt}", ("unreadable_checkpoint.safetensors", "permission denied")),
    ("tokenizer encode --tokenizer {no_tok} hello", ("unreadable_tok.json", "permission denied")),
    ("finetune --checkpoint {ckpt} --task {no_csv}", ("unreadable_task.csv", "permission denied")),
    ("tokenizer train --corpus {corpus} --out {ro}/tok.json", ("read_only", "cannot write there")),
    ("finetune --checkpoint {ckpt} --task {csv} --out {ro}/clf.safetensors", ("read_only", "cannot write there")),
    ("pretrain --corpus {corpus} --out {ro} --preset micro", ("read_only", "cannot write there")),
]


@pytest.mark.parametrize("template, fragments", PERMISSION_CASES, ids=[c[0] for c in PERMISSION_CASES])
def test_unreadable_files_and_unwritable_folders_stop_before_the_work(locked, capsys, template, fragments):
    args = [part.format(n=uuid.uuid4().hex[:6], **vars(locked)) for part in template.split()]
    with as_unprivileged():
        code, out, err = run_cli(args, capsys)
    assert_one_clear_line(code, err, fragments)
    assert "step " not in out and "fine-tuning" not in out and "tokenizer:" not in out


def test_a_full_disk_is_one_line_and_keeps_the_checkpoint(world, tmp_path, capsys, monkeypatch):
    import minitransformer.files as files

    run = copy_run(world.gpt, tmp_path / "run")
    before = (run / "checkpoint.safetensors").read_bytes()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    code, _, err = run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(run), "--resume", "--steps", "3"],
                           capsys)
    assert_one_clear_line(code, err, ("could not save", "checkpoint.safetensors", "the disk is full", "unchanged"))
    assert (run / "checkpoint.safetensors").read_bytes() == before and not temp_files(run)


def test_a_file_size_limit_is_one_line_and_keeps_the_checkpoint(world, tmp_path):
    run = copy_run(world.gpt, tmp_path / "run")
    before = (run / "checkpoint.safetensors").read_bytes()
    job = {"argv": ["pretrain", "--corpus", str(world.corpus), "--out", str(run), "--resume", "--steps", "3"]}
    (result,) = run_limited([job], {"RLIMIT_FSIZE": len(before) // 2})
    assert_one_clear_line(result["code"], result["err"], ("checkpoint.safetensors", "file-size limit", "unchanged"))
    assert (run / "checkpoint.safetensors").read_bytes() == before and not temp_files(run)


PATCHED_RUN = textwrap.dedent("""
    import os, signal, sys
    import {module} as target
    real = target.{owner}.{method}
    def patched(self, *args, **kwargs):
    {body}
    target.{owner}.{method} = patched
    from minitransformer.cli import main
    sys.exit(main({argv!r}))
""")


def run_patched(module, owner, method, body, args, timeout=120) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess with one method replaced by `body` (which may call real(...))."""
    body = textwrap.indent(textwrap.dedent(body), "    ")
    code = PATCHED_RUN.format(module=module, owner=owner, method=method, body=body, argv=[str(a) for a in args])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})


def test_ctrl_c_while_training_a_tokenizer_is_one_line_and_writes_nothing(world, tmp_path):
    out = tmp_path / "tok.json"
    done = run_patched("minitransformer.tokenizers", "BPETokenizer", "train",
                       "signal.raise_signal(signal.SIGINT); return real(self, *args, **kwargs)",
                       ["tokenizer", "train", "--corpus", world.corpus, "--vocab-size", "300", "--out", out])
    assert_one_clear_line(done.returncode, done.stderr, "interrupted (Ctrl-C)", status=130)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_generating_is_one_line(world):
    done = run_patched("minitransformer.models.gpt", "GPT", "generate",
                       "signal.raise_signal(signal.SIGINT); return real(self, *args, **kwargs)",
                       ["generate", "--checkpoint", world.ckpt, "--max-new-tokens", "5"])
    assert_one_clear_line(done.returncode, done.stderr, "interrupted (Ctrl-C)", status=130)


def test_a_second_ctrl_c_stops_at_once_in_one_line_keeping_the_last_checkpoint(world, tmp_path):
    folder = tmp_path / "run"
    body = """
        real(self, *args, **kwargs)
        if self.step == 2:  # Ctrl-C, and again before the step is over
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
    """
    done = run_patched("minitransformer.train", "Trainer", "log_progress", body,
                       ["pretrain", "--corpus", world.corpus, "--out", folder, "--steps", "6", "--checkpoint-every",
                        "1", *FAST])
    assert_one_clear_line(done.returncode, done.stderr, ("interrupted twice", "saved at step 1"), status=130)
    assert checkpoint.load(folder / "checkpoint.safetensors").metadata["step"] == 1
    assert not temp_files(folder)


def test_sigterm_saves_and_stops_like_ctrl_c(world, tmp_path):
    """A real SIGTERM from another process, sent while the run is training."""
    folder = tmp_path / "run"
    args = ["pretrain", "--corpus", str(world.corpus), "--out", str(folder), "--steps", "100000",
            "--checkpoint-every", "100000", *FAST]
    code = f"import sys; from minitransformer.cli import main; sys.exit(main({args!r}))"
    child = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    for line in child.stdout:
        if line.startswith("step     3/"):
            child.send_signal(signal.SIGTERM)
            break
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0 and err == "", err
    assert "interrupted: saved" in out
    step = checkpoint.load(folder / "checkpoint.safetensors").metadata["step"]
    assert 3 <= step < 100000


def test_a_reader_that_stops_early_is_no_error(world):
    """`generate ... | head -1`: the pipe closes under us; stop quietly (status 141, as `cat` would)."""
    args = ["generate", "--checkpoint", str(world.ckpt), "--num-samples", "5000", "--max-new-tokens", "8"]
    code = f"import sys; from minitransformer.cli import main; sys.exit(main({args!r}))"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert child.stdout.readline().startswith(b"--- sample 1")
    child.stdout.close()
    assert child.wait(timeout=120) == 141 and child.stderr.read() == b""


# ------------------------------------------------------------------------------------------ 6. paths


def test_corpus_folders_reached_through_dot_paths_are_read(tmp_path, monkeypatch):
    for folder in (tmp_path / "corpus", tmp_path / ".dotparent" / "corpus"):
        folder.mkdir(parents=True)
        (folder / "a.txt").write_text("some text")
        (folder / ".hidden.txt").write_text("never read")
    inside = tmp_path / "work"
    inside.mkdir()
    monkeypatch.chdir(inside)
    assert read_corpus("../corpus") == "some text"
    assert read_corpus("../.dotparent/corpus") == "some text"
    monkeypatch.chdir(tmp_path)
    assert read_corpus(".dotparent/corpus") == "some text"


# ------------------------------------------------------------------------------------------ 7. nothing lost


def test_overwrite_starts_afresh_in_a_run_folder(world, tmp_path, capsys):
    run = copy_run(world.gpt, tmp_path / "run")
    args = ["pretrain", "--corpus", str(world.corpus), "--out", str(run), "--steps", "1", *FAST]
    assert run_cli(args, capsys)[0] == 2
    assert run_cli([*args, "--overwrite"], capsys)[0] == 0
    assert checkpoint.load(run / "checkpoint.safetensors").metadata["step"] == 1
    assert [r["step"] for r in log_records(run)] == [1, 1]  # one train record and one evaluation


def test_resume_remembers_the_runs_settings(world, tmp_path, capsys):
    run = copy_run(world.gpt, tmp_path / "run")
    assert run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(run), "--resume", "--steps", "3"],
                   capsys)[0] == 0
    meta = checkpoint.load(run / "checkpoint.safetensors").metadata
    assert meta["step"] == 3 and meta["train_config"]["steps"] == 3 and meta["train_config"]["batch_size"] == 2
    code, _, err = run_cli(["pretrain", "--corpus", str(world.corpus), "--out", str(run), "--resume"], capsys)
    assert_one_clear_line(code, err, "finished, at step 3 of 3")  # not 1500, the default


def test_a_kill_mid_save_leaves_a_temp_file_that_resume_removes_and_the_log_reads_as_one_run(world, tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"
    args = ["pretrain", "--corpus", str(world.corpus), "--steps", "4", "--checkpoint-every", "1", *FAST]
    assert run_cli([*args, "--out", str(whole)], capsys)[0] == 0
    body = """
        if self.step == 3:  # killed while writing the checkpoint's first tensor
            import minitransformer.safetensors as sf
            sf._tensor_bytes = lambda array: os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *args, **kwargs)
    """
    done = run_patched("minitransformer.train", "Trainer", "save_checkpoint", body, [*args, "--out", split])
    assert done.returncode == -signal.SIGKILL
    assert len(temp_files(split)) == 1 and log_records(split)[-1]["step"] == 3  # logged, not saved
    assert checkpoint.load(split / "checkpoint.safetensors").metadata["step"] == 2

    assert run_cli([*args, "--out", str(split), "--resume"], capsys)[0] == 0
    assert temp_files(split) == []

    def timeless(folder):
        return [{k: v for k, v in record.items() if k != "ms_per_step"} for record in log_records(folder)]

    assert timeless(split) == timeless(whole)  # every step once, with the uninterrupted run's losses
    a = checkpoint.load(whole / "checkpoint.safetensors").weights
    b = checkpoint.load(split / "checkpoint.safetensors").weights
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_stale_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "checkpoint.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    names = {
        "dead": f".{target.name}.{dead_pid}.{'0' * 16}.{'1' * 12}.tmp",
        "old_format": f".{target.name}.{'a' * 32}.tmp",
        "live": f".{target.name}.{os.getppid()}.{'2' * 16}.{'3' * 12}.tmp",
        "other_file": f".other.safetensors.{dead_pid}.{'0' * 16}.{'1' * 12}.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    atomic_write_bytes(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, names["live"], names["other_file"]])
    assert remove_stale_temp_files(tmp_path / "other.safetensors") == [tmp_path / names["other_file"]]


def test_saved_files_get_the_umask_and_the_folder_is_fsynced(world, tmp_path, capsys, monkeypatch):
    import minitransformer.files as files

    synced, real_fsync = [], os.fsync

    def recording_fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", recording_fsync)
    umask = os.umask(0o022)
    os.umask(umask)
    tok = tmp_path / "tok.json"
    assert run_cli(["tokenizer", "train", "--corpus", str(world.corpus), "--vocab-size", "260", "--out", str(tok)],
                   capsys)[0] == 0
    assert tok.stat().st_mode & 0o777 == 0o666 & ~umask == world.ckpt.stat().st_mode & 0o777
    assert synced == ([False, True] if os.name == "posix" else [False])  # the file, then the folder with its name


def test_a_failed_save_says_so_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(SaveError, match="could not save .*x.bin: Input/output error; the previous file is unchanged"):
        with atomic_open(target) as file:
            file.write(b"half")
            raise OSError(errno.EIO, "Input/output error")
    assert target.read_bytes() == b"old" and temp_files(tmp_path) == []


# ------------------------------------------------------------------------------------------ fuzz

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from([0, -1, 10**12, 2**63])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)


def json_paths(value, prefix=()):
    """Every position in a JSON document, as a tuple of keys and indices."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_paths(item, (*prefix, index))


def replaced(document, path, value):
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


@st.composite
def mutated_bytes(draw, blob: bytes):
    """A byte string near `blob`: a few bytes changed, a cut, or a stretch deleted or repeated."""
    data = bytearray(blob)
    how = draw(st.sampled_from(["flip", "truncate", "delete", "repeat"]))
    if how == "flip":
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    else:
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 64)))
        data[start:end] = b"" if how == "delete" else data[start:end] * 2
    return bytes(data)


@st.composite
def mutated_json(draw, document: dict):
    """`document` with one position replaced by an arbitrary JSON value: a top-level field is drawn
    first, then a position inside it, so that a long vocabulary does not take every draw."""
    document = json.loads(json.dumps(document))
    top = draw(st.sampled_from(sorted(document)))
    paths = [(top, *path) for path in json_paths(document[top])]
    return replaced(document, draw(st.sampled_from(paths)), draw(JSON_VALUES))


def peak_memory(call) -> tuple:
    """(what call() raised or None, the peak bytes it allocated, NumPy's arrays included)."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as error:
        raised = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


class Original(SimpleNamespace):
    def __repr__(self):  # hypothesis prints its arguments when a case fails: not all 100 kB of them
        return "<the world's checkpoint>"


@pytest.fixture(scope="module")
def fuzz_checkpoint(world):
    header, data = read_safetensors(world.ckpt)
    meta = json.loads(header["__metadata__"]["metadata"])
    return Original(bytes=world.ckpt.read_bytes(), header=header, data=data, meta=meta)


@settings(max_examples=60)
@given(data=st.data())
def test_fuzzed_checkpoints_give_only_checkpoint_errors_and_bounded_memory(fuzz_checkpoint, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "checkpoint.safetensors"
    where = data.draw(st.sampled_from(["bytes", "metadata", "header"]))
    if where == "bytes":
        path.write_bytes(data.draw(mutated_bytes(fuzz_checkpoint.bytes)))
    else:
        header = json.loads(json.dumps(fuzz_checkpoint.header))
        if where == "metadata":
            meta = data.draw(mutated_json(fuzz_checkpoint.meta))
            header["__metadata__"]["metadata"] = json.dumps(meta)
        else:
            header = data.draw(mutated_json(header))
        raw_safetensors(path, json.dumps(header), fuzz_checkpoint.data)
    raised, peak = peak_memory(lambda: load_trained(path))
    assert raised is None or isinstance(raised, CheckpointError), repr(raised)
    if raised is not None:
        assert str(path) in str(raised)
    assert peak < 20 * path.stat().st_size + 8 * 2**20  # never more than the file could justify


@settings(max_examples=60)
@given(data=st.data())
def test_fuzzed_tokenizer_files_give_only_tokenizer_errors(world, tmp_path_factory, data):
    document = json.loads(world.tok.read_text())
    path = tmp_path_factory.mktemp("fuzz") / "tok.json"
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(mutated_bytes(world.tok.read_bytes())))
    else:
        path.write_text(json.dumps(data.draw(mutated_json(document))), encoding="utf-8")
    loaded = {}
    raised, peak = peak_memory(lambda: loaded.setdefault("tokenizer", BPETokenizer.load(path)))
    assert raised is None or isinstance(raised, TokenizerFileError), repr(raised)
    assert peak < 50 * path.stat().st_size + 8 * 2**20
    if raised is None:  # a file that loads is a working tokenizer
        text = "The statement is used to assign a value."
        assert loaded["tokenizer"].decode(loaded["tokenizer"].encode(text)) == text
