"""`plot`: the train and validation loss (and learning rate) of one or more runs, as a picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..files import prepare_output_file
from ..plotting import INSTALL_HINT, plot_png, read_log, text_chart

HELP = "draw the loss curves of one or more run folders (a PNG, or a text chart without matplotlib)"
DESCRIPTION = ("Draw train loss, validation loss and the learning rate from each RUN_DIR/log.jsonl: a PNG when "
               f"matplotlib is installed ({INSTALL_HINT}), a text chart in the terminal otherwise. "
               "Validation loss turning up while train loss falls is overfitting.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a run folder written by pretrain (holds log.jsonl)")
    p.add_argument("--out", help="where to write the PNG (default: loss.png in the first RUN_DIR)")
    p.add_argument("--text", action="store_true", help="draw the text chart even when matplotlib is installed")


def run(args) -> None:
    for run_dir in args.run_dirs:
        read_log(run_dir)  # every folder checked before any drawing
    if not args.text:
        out = prepare_output_file(args.out or Path(args.run_dirs[0]) / "loss.png", "--out")
        try:
            print(f"wrote {plot_png(args.run_dirs, out)}")
            return
        except ImportError as error:
            print(f"({error}; drawing a text chart instead)")
    print(text_chart(args.run_dirs))
