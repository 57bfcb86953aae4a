"""Every lesson runs to the end in full mode, so its assertions (the claims it teaches) hold as a
learner sees them, not only in a shortened version.

Each lesson is run as a learner would run it, `python lessons/NN_name.py`, in a fresh process with
its figures sent to a temporary folder.  The lessons are independent, so they run two at a time
(one per core, each with one BLAS thread) in a pool started once for the whole module; each test
then reads its lesson's result.  MINITRANSFORMER_LESSON_MODE=quick runs the short versions instead
(seconds each), for a fast local check.
"""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
QUICK = os.environ.get("MINITRANSFORMER_LESSON_MODE", "full") == "quick"
TIMEOUT_SECONDS = 120 if QUICK else 420
PARALLEL = 2


def run_lesson(lesson: Path, out_dir: Path) -> dict:
    env = dict(os.environ, MINITRANSFORMER_OUT=str(out_dir))
    env.pop("MINITRANSFORMER_QUICK", None)
    if QUICK:
        env["MINITRANSFORMER_QUICK"] = "1"
    # one BLAS thread: two lessons share the two cores, and BLAS threads fighting each other (or
    # other jobs) make a lesson many times slower (a correctness test, not a benchmark)
    env["OPENBLAS_NUM_THREADS"] = "1"
    # import this checkout of the package even if another copy is installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, str(lesson)], cwd=out_dir, env=env, capture_output=True,
                                text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        return {"timeout": True, "seconds": time.perf_counter() - start,
                "stdout": error.stdout or "", "stderr": error.stderr or ""}
    return {"timeout": False, "seconds": time.perf_counter() - start, "returncode": result.returncode,
            "stdout": result.stdout, "stderr": result.stderr}


@pytest.fixture(scope="module")
def lesson_runs(tmp_path_factory):
    """Start every lesson at once in a pool of PARALLEL workers; each test waits for its own."""
    root = tmp_path_factory.mktemp("lessons")
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    futures = {lesson.name: pool.submit(run_lesson, lesson, root / lesson.stem) for lesson in LESSONS}
    yield futures
    pool.shutdown(wait=True)


def test_lessons_are_found():
    assert LESSONS, f"no lessons matching [0-9][0-9]_*.py in {LESSONS_DIR}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.name for path in LESSONS])
def test_lesson_runs_to_the_end(lesson, lesson_runs):
    run = lesson_runs[lesson.name].result()
    mode = "quick" if QUICK else "full"
    if run["timeout"]:
        pytest.fail(f"{lesson.name} did not finish within {TIMEOUT_SECONDS} s in {mode} mode; its output so far:\n"
                    f"{run['stdout'][-3000:]}\n{run['stderr'][-3000:]}")
    assert run["returncode"] == 0, (
        f"{lesson.name} exited with code {run['returncode']} after {run['seconds']:.1f} s in {mode} mode.\n"
        f"--- stderr ---\n{run['stderr']}\n--- last lines of stdout ---\n"
        + "\n".join(run["stdout"].splitlines()[-20:]))
    print(f"{lesson.name}: {run['seconds']:.1f} s in {mode} mode")


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
