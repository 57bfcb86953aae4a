"""The layering the package promises: the library never parses arguments, the trainer knows no models."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minitransformer"


def imported_modules(path: Path) -> set:
    """Every module a file imports, absolute ('argparse') or relative to the package ('.info' -> 'info')."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}".strip(".") for alias in node.names)
    return names


def library_files():
    return [path for path in PACKAGE.rglob("*.py") if "commands" not in path.relative_to(PACKAGE).parts]


def test_only_the_command_layer_parses_arguments():
    offenders = [str(path.relative_to(PACKAGE)) for path in library_files() if "argparse" in imported_modules(path)]
    assert not offenders, f"argparse outside minitransformer/commands/: {offenders}"


def test_the_library_never_imports_the_commands():
    offenders = [str(path.relative_to(PACKAGE)) for path in library_files()
                 if path.name != "cli.py" and any("commands" in name.split(".") for name in imported_modules(path))]
    assert not offenders, f"library modules importing the command layer: {offenders}"


def test_the_trainer_imports_nothing_above_it_and_names_no_model():
    tree = ast.parse((PACKAGE / "train.py").read_text(encoding="utf-8"))
    imports = imported_modules(PACKAGE / "train.py")
    assert not {"info", "pretrain", "finetune", "models"} & {name.split(".")[0] for name in imports}
    identifiers = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    identifiers |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not {"GPT", "BERT", "T5"} & identifiers
    assert not {"gpt", "bert", "t5"} & strings
