"""Every lesson runs to the end in quick mode, so its assertions (the claims it teaches) still hold.

Each lesson is run as a learner would run it, `python lessons/NN_name.py`, in a fresh process with
MINITRANSFORMER_QUICK=1 and its figures sent to a temporary folder.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
TIMEOUT_SECONDS = 120


def test_lessons_are_found():
    assert LESSONS, f"no lessons matching [0-9][0-9]_*.py in {LESSONS_DIR}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.name for path in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, tmp_path):
    env = dict(os.environ, MINITRANSFORMER_QUICK="1", MINITRANSFORMER_OUT=str(tmp_path / "out"))
    # one BLAS thread: tiny matrices gain nothing from two, and on a busy machine two threads
    # fighting other jobs make a lesson 10-40x slower (a correctness test, not a benchmark)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    # import this checkout of the package even if another copy is installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{lesson.name} did not finish within {TIMEOUT_SECONDS} s in quick mode; "
                    f"its output so far:\n{error.stdout or ''}\n{error.stderr or ''}")
    seconds = time.perf_counter() - start
    assert result.returncode == 0, (
        f"{lesson.name} exited with code {result.returncode} after {seconds:.1f} s in quick mode.\n"
        f"--- stderr ---\n{result.stderr}\n--- last lines of stdout ---\n"
        + "\n".join(result.stdout.splitlines()[-20:]))


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.name for path in LESSONS])
def test_lesson_is_a_percent_format_notebook(lesson):
    """Prose cells and code cells, so the file opens as a notebook in Jupyter (jupytext) and VS Code."""
    lines = lesson.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0] == "# %% [markdown]", f"{lesson.name} should open with a '# %% [markdown]' cell"
    assert "# %%" in lines, f"{lesson.name} has no '# %%' code cell"


def test_readme_mentions_every_lesson():
    readme = (LESSONS_DIR / "README.md").read_text(encoding="utf-8")
    missing = [path.name for path in LESSONS if path.name not in readme]
    assert not missing, f"lessons/README.md does not mention {missing}; add a row to its table"
