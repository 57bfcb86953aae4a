"""Pretrained weights: start from a model somebody else pretrained, and hand ours to other tools.

Pretraining is the expensive half of the lecture's recipe; fine-tuning starts from its result.
A checkpoint is only named arrays, so reusing one means agreeing on the architecture and sizes,
the names, and the layout of each array.  One file per direction and format:

Reading:   load_bert_folder(folder)        any local Hugging Face BERT folder -> (BERT, WordPieceTokenizer)
                                           (bert_folder.py)
           load_pretrained("all-MiniLM-L6-v2")   the same, for a model installed as a Python package
                                           (packaged.py)
Using:     embed(model, tokenizer, sentences)  sentence embeddings: mean pooling + L2 norm (embeddings.py)
Writing:   export_gpt2(gpt, folder)        our GPT in Hugging Face's GPT-2 layout (gpt2_export.py)

common.py holds the two errors they share: PretrainedFormatError (a file that does not fit,
named with the entry at fault) and PretrainedNotInstalledError (with the pip command).
"""

from .bert_folder import LoadReport, bert_config_from_hf, load_bert_folder
from .common import PretrainedFormatError, PretrainedNotInstalledError
from .embeddings import EMBED_MAX_LENGTH, embed, l2_normalize, mean_pool
from .gpt2_export import GPT2_ACTIVATIONS, export_gpt2, gpt2_config, gpt2_tensors
from .packaged import PRETRAINED_MODELS, PackagedModel, load_pretrained, pretrained_folder

__all__ = ["PretrainedFormatError", "PretrainedNotInstalledError", "LoadReport", "PRETRAINED_MODELS",
           "PackagedModel", "load_bert_folder", "bert_config_from_hf", "pretrained_folder", "load_pretrained",
           "embed", "mean_pool", "l2_normalize", "EMBED_MAX_LENGTH", "gpt2_config", "gpt2_tensors",
           "export_gpt2", "GPT2_ACTIVATIONS"]
