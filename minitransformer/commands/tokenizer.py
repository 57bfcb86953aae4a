"""`tokenizer`: train a BPE tokenizer on a corpus, or show how one splits a text."""

from __future__ import annotations

import argparse

from ..corpus import read_corpus
from ..files import prepare_output_file
from ..pretrain import load_tokenizer
from ..tokenizers import BPETokenizer
from .values import positive_int

HELP = "train a BPE tokenizer, or encode text with one"
DESCRIPTION = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="action")
    t = actions.add_parser("train", help="train a tokenizer on a corpus and save it as JSON",
                           formatter_class=p.formatter_class)
    t.add_argument("--corpus", help="UTF-8 text file or folder (default: the built-in corpus)")
    t.add_argument("--vocab-size", type=positive_int, default=512,
                   help="tokens in the vocabulary (byte-level: 256 bytes + the merges)")
    t.add_argument("--kind", choices=["byte", "word"], default="byte", help="byte-level (GPT-2) or word-level (lecture)")
    t.add_argument("--out", required=True, help="where to write the tokenizer JSON")
    e = actions.add_parser("encode", help="show ids and the subword pieces of a text",
                           formatter_class=p.formatter_class)
    e.add_argument("--tokenizer", required=True, help="a tokenizer JSON (or a checkpoint)")
    e.add_argument("text", help="the text to split")
    p.set_defaults(tokenizer_parser=p)  # to print this command's help when no action is given


def run(args) -> None:
    if args.action == "train":
        prepare_output_file(args.out, "--out")  # before training, not after it
        text = read_corpus(args.corpus)
        tokenizer = BPETokenizer(kind=args.kind)
        tokenizer.train([text], vocab_size=args.vocab_size)
        tokenizer.save(args.out)
        print(f"trained a {args.kind}-level BPE with {tokenizer.vocab_size} tokens; saved {args.out}")
    elif args.action == "encode":
        tokenizer = load_tokenizer(args.tokenizer)
        ids = tokenizer.encode(args.text, allowed_special="all")
        print("ids:   ", ids)
        print("pieces:", tokenizer.segment(args.text, allowed_special="all"))
        print(f"{len(args.text)} characters -> {len(ids)} tokens")
    else:
        args.tokenizer_parser.print_help()
        args.tokenizer_parser.exit()  # status 0, as for --help
