"""The command line: `python -m minitransformer <command>` (or the `minitransformer` script).

    pretrain   train a tokenizer and a GPT / BERT / T5 on a corpus, then show what it learned
    generate   sample text from a trained GPT (or fill spans with a trained T5)
    evaluate   held-out loss of a checkpoint against the unigram and uniform baselines
    finetune   SGD fine-tuning of a pretrained checkpoint on a labelled task
    tokenizer  train a BPE tokenizer, or show how one splits a text
    info       parameter count, FLOPs per token and a time-per-step estimate for a preset
    plot       the loss curves of run folders: a PNG (matplotlib), or a text chart

One module per command, each with HELP (and DESCRIPTION), add_arguments(parser) and run(args).
This package is the only place that parses arguments: the library below it takes plain values;
values.py holds the rules a flag's value must follow (`--steps` a positive integer, ...).
Errors are reported as one clear line (exit status 2), not a traceback; so is Ctrl-C (status 130).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys

import numpy as np

from .. import __version__
from ..corpus import CorpusError
from ..distributed import WorkerFailed
from ..files import os_error_reason
from ..safetensors import CheckpointError
from ..tokenizers import TokenizerFileError, UnknownTokenError
from ..train import TrainingDiverged
from . import evaluate, finetune, generate, info, plot, pretrain, tokenizer

COMMANDS = {"pretrain": pretrain, "generate": generate, "evaluate": evaluate, "finetune": finetune,
            "tokenizer": tokenizer, "info": info, "plot": plot}

# The errors a user can cause and fix (a missing file, a bad value, a diverging run): one line each.
# OSError (a file that cannot be read or written), MemoryError and Ctrl-C are reported by main too.
USER_ERRORS = (CorpusError, CheckpointError, TokenizerFileError, UnknownTokenError, TrainingDiverged,
               WorkerFailed, FileNotFoundError, ValueError, IndexError, TypeError)
INTERRUPTED = 130  # the shell's status for a program stopped by Ctrl-C (128 + SIGINT)
BROKEN_PIPE = 141  # and for one whose reader went away (128 + SIGPIPE)


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a bad flag reported in one line (argparse prints the whole usage first)."""

    def error(self, message):
        self.exit(2, f"error: {one_line(message)} (`{self.prog} --help` lists the options)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help with each option's default shown (as ArgumentDefaultsHelpFormatter), unless
    the help already says it or there is none to show; the description and examples keep their lines."""

    def _get_help_string(self, action):
        help = action.help or ""
        if ("default" in help or "%(default)" in help or not action.option_strings or action.nargs == 0
                or action.default in (None, argparse.SUPPRESS)):
            return help
        return f"{help} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="minitransformer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"minitransformer {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="command")
    for name, command in COMMANDS.items():
        command.add_arguments(subcommands.add_parser(name, help=command.HELP, description=command.DESCRIPTION,
                                                     epilog=getattr(command, "EPILOG", None),
                                                     formatter_class=HelpFormatter))
    return parser


def describe_os_error(error: OSError) -> str:
    """One line for a file that cannot be used: which file, what is wrong, what to do."""
    name = error.filename
    if name is None:  # our own message (SaveError, "checkpoint not found: ...")
        return str(error.args[0]) if len(error.args) == 1 else str(error)
    problems = {
        errno.EISDIR: f"{name} is a folder, where a file is expected; give the file itself",
        errno.ENOTDIR: f"{name}: a part of this path is a file, not a folder",
        errno.EACCES: f"permission denied for {name}; check its permissions (ls -l) or use another path",
        errno.EPERM: f"permission denied for {name}; check its permissions (ls -l) or use another path",
        errno.ENOENT: f"{name} not found",
    }
    return problems.get(error.errno, f"{name}: {os_error_reason(error)}")


def one_line(message: str) -> str:
    """`message` with every newline or control character escaped: text that came from a file (a
    tensor named "a\\nb") can neither split the error line nor drive the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def message_of(error: Exception) -> str:
    """The error's message: a KeyError's (UnknownTokenError) without the quotes its str() adds, any
    other whole (stripping quotes from every message ate the closing one of "..., not 't5'")."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        return str(error.args[0])
    return str(error)


def report(message: str) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        # NumPy's overflow warnings of a diverging run would add lines of noise: the trainer checks
        # the loss and the weights itself, and reports a divergence in one line.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            COMMANDS[args.command].run(args)
    except KeyboardInterrupt as error:  # Ctrl-C (training saves first, see train.py); a second one stops at once
        report(str(error) or "interrupted (Ctrl-C)")
        return INTERRUPTED
    except BrokenPipeError:  # the reader of our output has gone (`| head`): stop quietly, as `cat` does
        with contextlib.suppress(OSError, ValueError, AttributeError):  # stdout may be no real file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # else exit's flush fails again
        return BROKEN_PIPE
    except MemoryError as error:
        report(str(error) or "out of memory; try a smaller --preset, --batch-size or --context")
        return 2
    except OSError as error:
        report(describe_os_error(error))
        return 2
    except USER_ERRORS as error:
        report(message_of(error))
        return 2
    return 0
