"""README.md's code blocks, run as a newcomer would paste them, so the README cannot drift.

Each ```python block runs alone in a fresh interpreter (no names carried over from a block above),
in a folder that holds what the README's commands made before it: tiny `runs/gpt` and `runs/bert-paper`
from `pretrain`.  Comment lines right after a `print(...)` are the output the README promises; each
must appear in what the block printed ("..." stands for any text).  A block that needs packages
this environment lacks (PyTorch, transformers) is compiled and its names checked instead.  Every
`python -m minitransformer ...` in a shell block must parse with the real command line.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from minitransformer.commands import COMMANDS, build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def blocks(language: str) -> list:
    text = README.read_text(encoding="utf-8")
    return [m.group(2) for m in FENCE.finditer(text) if m.group(1) == language]


def promised_output(code: str) -> list:
    """The comment lines directly under each print(...) (in a loop too): what the README says it prints."""
    promised, after_print = [], False
    for line in code.splitlines():
        if line.lstrip().startswith("print("):
            after_print = True
        elif after_print and line.startswith("# "):
            promised.append(line[2:].strip())
        else:
            after_print = False
    return [line for line in promised if line.strip(". ")]


def shows(output: str, promise: str) -> bool:
    """Whether some printed line holds the promise's pieces in order (`...` matches anything)."""
    pieces = [" ".join(piece.split()) for piece in promise.split("...") if piece.strip()]
    for line in output.splitlines():
        line, start = " ".join(line.split()), 0
        for piece in pieces:
            start = line.find(piece, start)
            if start < 0:
                break
            start += len(piece)
        else:
            return True
    return False


def needs_missing_package(code: str) -> str | None:
    for node in ast.walk(ast.parse(code)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        for name in names:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                return name.split(".")[0]
    return None


def undefined_names(code: str) -> set:
    """Names a block reads but never binds (imports, assignments, defs, loop targets, with ... as)."""
    tree = ast.parse(code)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):  # of a def or a lambda
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return used - bound


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder where `pretrain --model gpt` and `--model bert --out runs/bert-paper` have run (the
    micro preset, which has the paper's architecture, a few steps)."""
    folder = tmp_path_factory.mktemp("readme")
    for kind, out in (("gpt", "runs/gpt"), ("bert", "runs/bert-paper")):
        # context 32: the README's PyTorch block generates 20 tokens after its prompt (micro's own is 16)
        subprocess.run([sys.executable, "-m", "minitransformer", "pretrain", "--model", kind, "--preset", "micro",
                        "--context", "32", "--steps", "2", "--vocab-size", "300", "--samples", "0",
                        "--eval-batches", "1", "--out", out],
                       cwd=folder, env=ENV, check=True, capture_output=True, timeout=300)
    return folder


PYTHON_BLOCKS = blocks("python")


def test_readme_has_the_blocks_it_should():
    assert len(PYTHON_BLOCKS) >= 5
    assert any("load_trained" in code for code in PYTHON_BLOCKS), "show how to load a trained GPT in Python"


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_block_runs_as_pasted(index, workdir):
    code = PYTHON_BLOCKS[index]
    assert not undefined_names(code), f"README python block {index} uses undefined {sorted(undefined_names(code))}"
    missing = needs_missing_package(code)
    if missing is not None:  # compiled and name-checked above; running needs `missing`
        compile(code, f"README block {index}", "exec")
        return
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=ENV, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"README python block {index} failed:\n{done.stderr[-3000:]}"
    for promise in promised_output(code):
        assert shows(done.stdout, promise), (f"README python block {index} promises {promise!r}; "
                                             f"it printed:\n{done.stdout[-3000:]}")


def shell_commands() -> list:
    commands = []
    for code in blocks("bash"):
        for line in code.splitlines():
            for part in re.split(r"&&|;", line.split("  #")[0]):
                words = shlex.split(part)
                if words[:3] == ["python", "-m", "minitransformer"]:
                    commands.append(words[3:])
    return commands


def test_readme_shell_blocks_name_real_commands_and_flags():
    commands = shell_commands()
    assert len(commands) >= 10
    parser = build_parser()
    for argv in commands:
        assert argv and argv[0] in COMMANDS, f"README: no command {argv[:1]}"
        try:
            parser.parse_args(argv)
        except SystemExit as stop:
            pytest.fail(f"README: `python -m minitransformer {' '.join(argv)}` does not parse ({stop})")


def test_the_output_check_can_fail():
    assert shows("tape: 20.9 KiB = 1.2 x the parameters", "... 20.9 KiB = 1.2 x")
    assert not shows("tape: 20.9 KiB = 1.2 x the parameters", "... 24.6 KiB = 1.4 x")
    assert promised_output("x = 1\nprint(x)\n# 1\n# ...\ny = 2\n# not output") == ["1"]
    assert undefined_names("print(my_gpt)") == {"my_gpt"}
