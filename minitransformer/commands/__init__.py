"""The command line: `python -m minitransformer <command>` (or the `minitransformer` script).

    pretrain   train a tokenizer and a GPT / BERT / T5 on a corpus, then show what it learned
    generate   sample text from a trained GPT (or fill spans with a trained T5)
    finetune   SGD fine-tuning of a pretrained checkpoint on a labelled task
    tokenizer  train a BPE tokenizer, or show how one splits a text
    info       parameter count, FLOPs per token and a time-per-step estimate for a preset

One module per command, each with HELP (and DESCRIPTION), add_arguments(parser) and run(args).
This package is the only place that parses arguments: the library below it takes plain values.
Errors are reported as one clear line (exit status 2), not a traceback.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..corpus import CorpusError
from ..safetensors import CheckpointError
from ..tokenizers import TokenizerFileError, UnknownTokenError
from ..train import TrainingDiverged
from . import finetune, generate, info, pretrain, tokenizer

COMMANDS = {"pretrain": pretrain, "generate": generate, "finetune": finetune, "tokenizer": tokenizer, "info": info}

# The errors a user can cause and fix (a missing file, a bad value, a diverging run): one line each.
USER_ERRORS = (CorpusError, CheckpointError, TokenizerFileError, UnknownTokenError, TrainingDiverged,
               FileNotFoundError, ValueError, IndexError, TypeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minitransformer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"minitransformer {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="command")
    for name, command in COMMANDS.items():
        command.add_arguments(subcommands.add_parser(name, help=command.HELP, description=command.DESCRIPTION))
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        COMMANDS[args.command].run(args)
    except USER_ERRORS as error:
        message = str(error).strip("'\"")
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
