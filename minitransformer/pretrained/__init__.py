"""Pretrained weights: start from a model somebody else pretrained, and hand ours to other tools.

Pretraining is the expensive half of the lecture's recipe; fine-tuning starts from its result.
A checkpoint is only named arrays, so reusing one means agreeing on the architecture and sizes,
the names, and the layout of each array.  One file per direction and format:

Reading:   load_bert_folder(folder)        any local Hugging Face BERT folder -> (BERT, WordPieceTokenizer)
                                           (bert_folder.py)
           load_pretrained("all-MiniLM-L6-v2")   the same, for a model installed as a Python package;
                                           load_pretrained(path) reads a GPT-2 or BERT folder (packaged.py)
           load_gpt2_folder(folder)        a Hugging Face GPT-2 folder -> (GPT, GPT2Tokenizer with GPT-2's ids)
                                           (gpt2_folder.py)
Using:     embed(model, tokenizer, sentences)  sentence embeddings: mean pooling + L2 norm (embeddings.py)
           in_context_accuracy(gpt, tokenizer, task, shots)  zero-, one-, few-shot prompting (in_context.py)
Writing:   export_gpt2(gpt, folder[, tokenizer])   our GPT in Hugging Face's GPT-2 layout (gpt2_export.py)
           export_bert(bert, folder[, tokenizer])  our BERT as a Hugging Face BERT folder (bert_export.py)

gpt2_layout.py is the one table of where each GPT weight sits in a GPT-2 file, used both ways.

common.py holds the two errors they share: PretrainedFormatError (a file that does not fit,
named with the entry at fault) and PretrainedNotInstalledError (with the pip command).
"""

from .bert_folder import LoadReport, bert_config_from_hf, load_bert_folder
from .common import PretrainedFormatError, PretrainedNotInstalledError
from .embeddings import EMBED_MAX_LENGTH, embed, l2_normalize, mean_pool
from .bert_export import bert_hf_config, bert_hf_tensors, export_bert
from .gpt2_export import export_gpt2, gpt2_config, gpt2_tensors
from .gpt2_folder import gpt_config_from_hf, load_gpt2_folder
from .gpt2_layout import GPT2_ACTIVATIONS
from .in_context import IN_CONTEXT_TASKS, InContextTask, few_shot_prompt, in_context_accuracy
from .packaged import PRETRAINED_MODELS, PackagedModel, load_folder, load_pretrained, pretrained_folder

__all__ = ["PretrainedFormatError", "PretrainedNotInstalledError", "LoadReport", "PRETRAINED_MODELS",
           "PackagedModel", "load_bert_folder", "bert_config_from_hf", "pretrained_folder", "load_pretrained",
           "embed", "mean_pool", "l2_normalize", "EMBED_MAX_LENGTH", "gpt2_config", "gpt2_tensors",
           "export_gpt2", "GPT2_ACTIVATIONS", "load_gpt2_folder", "gpt_config_from_hf", "export_bert",
           "bert_hf_config", "bert_hf_tensors", "load_folder", "IN_CONTEXT_TASKS", "InContextTask", "few_shot_prompt",
           "in_context_accuracy"]
