"""What every lesson sets up first: quick mode, where figures go, and matplotlib if installed.

Lessons import this (`from lesson_setup import ...`); it sits next to them, so it is found when
a lesson runs as a script (`python lessons/05_gpt_pretraining.py`) and when it opens as a notebook
from the lessons folder.

- QUICK: True when MINITRANSFORMER_QUICK is set (and not "0"): tiny sizes, seconds (the tests).
- OUT: where figures go: $MINITRANSFORMER_OUT, or lessons/out/.
- plt: matplotlib.pyplot, or None when matplotlib is not installed (`pip install -e ".[viz]"`).
"""

import os
from pathlib import Path

QUICK = os.environ.get("MINITRANSFORMER_QUICK", "0") not in ("", "0")
OUT = Path(os.environ.get("MINITRANSFORMER_OUT", Path(__file__).resolve().parent / "out"))

try:
    import matplotlib

    matplotlib.use("Agg")  # write files; never open a window
    import matplotlib.pyplot as plt
except ImportError:  # figures are optional; every result is also printed as text
    plt = None


def save_figure(fig, name: str) -> None:
    """Write a figure to OUT/name, atomically: a half-written PNG never replaces a good one."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    partial = path.with_name(path.stem + ".partial.png")
    fig.savefig(partial, dpi=120, bbox_inches="tight")
    os.replace(partial, path)
    print(f"figure saved to {path}")
