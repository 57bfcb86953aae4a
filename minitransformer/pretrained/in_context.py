"""In-context learning: a pretrained language model does a task from examples in its prompt alone.

No weight changes: the prompt shows k solved examples ("shots") and then the question, and the
model continues the pattern (Brown et al., 2020, "Language Models are Few-Shot Learners")::

    Give the capital city of each country.      <- the instruction (zero-shot: nothing else)
    France: Paris                               <- one shot
    Japan: Tokyo                                <- two shots ...
    Italy:                                      <- the query; the model writes " Rome"

`in_context_accuracy` asks every query of a task with k shots and counts the exact answers (greedy
decoding, the first line of the continuation).  A small model gains from each shot; it learns the
format first (answer with one word, then a newline), then, if it knows them, the facts.
benchmarks/gpt2_in_context.py runs IN_CONTEXT_TASKS on a real GPT-2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models.gpt import GPT


@dataclass(frozen=True)
class InContextTask:
    """An instruction, solved examples to take shots from, and queries with their answers."""

    instruction: str
    examples: tuple[tuple[str, str], ...]
    queries: tuple[tuple[str, str], ...]


IN_CONTEXT_TASKS = {
    "capitals": InContextTask(
        "Give the capital city of each country.",
        (("France", "Paris"), ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi")),
        (("Italy", "Rome"), ("Germany", "Berlin"), ("Spain", "Madrid"), ("Russia", "Moscow"), ("China", "Beijing"),
         ("England", "London"), ("Greece", "Athens"), ("Ireland", "Dublin"))),
    "opposites": InContextTask(
        "Give the opposite of each word.",
        (("hot", "cold"), ("up", "down"), ("fast", "slow"), ("happy", "sad"), ("early", "late")),
        (("big", "small"), ("black", "white"), ("open", "closed"), ("good", "bad"), ("day", "night"),
         ("old", "new"), ("yes", "no"), ("left", "right"))),
    "plurals": InContextTask(
        "Give the plural of each noun.",
        (("cat", "cats"), ("box", "boxes"), ("city", "cities"), ("child", "children"), ("leaf", "leaves")),
        (("dog", "dogs"), ("bus", "buses"), ("baby", "babies"), ("mouse", "mice"), ("man", "men"),
         ("tooth", "teeth"), ("knife", "knives"), ("car", "cars"))),
}


def few_shot_prompt(task: InContextTask, shots: int, query: str) -> str:
    """The instruction, `shots` solved examples one per line ("France: Paris"), then "query:"."""
    if not 0 <= shots <= len(task.examples):
        raise ValueError(f"shots must be from 0 to the task's {len(task.examples)} examples, got {shots}")
    lines = [task.instruction, *(f"{question}: {answer}" for question, answer in task.examples[:shots])]
    return "\n".join([*lines, f"{query}:"])


def complete(model: GPT, tokenizer, prompt: str, max_new_tokens: int = 6) -> str:
    """The model's greedy continuation of `prompt`, up to its first newline, stripped."""
    ids = tokenizer.encode(prompt)
    out = model.generate(np.array([ids]), max_new_tokens, temperature=0)
    return tokenizer.decode(out[0, len(ids):].tolist()).split("\n")[0].strip()


def in_context_accuracy(model: GPT, tokenizer, task: InContextTask, shots: int) -> tuple[float, list]:
    """The fraction of the task's queries answered exactly with `shots` shots, and (query, answer, ours)."""
    answers = [(query, answer, complete(model, tokenizer, few_shot_prompt(task, shots, query)))
               for query, answer in task.queries]
    return sum(ours == answer for _, answer, ours in answers) / len(answers), answers
