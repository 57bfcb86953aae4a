"""In-context learning on a real GPT-2: zero-, one- and few-shot accuracy on three small tasks.

    MINITRANSFORMER_GPT2=path/to/gpt2 python benchmarks/gpt2_in_context.py [--shots 0 1 3 5]

The folder is a Hugging Face GPT-2 (config.json, model.safetensors, tokenizer.json or vocab.json +
merges.txt), read by minitransformer.pretrained.load_gpt2_folder.  For each task of
IN_CONTEXT_TASKS (pretrained/in_context.py) and each number of shots, every query is asked with
that many solved examples in the prompt, and the greedy answer must match exactly.  No weight
changes: whatever improves with the shots is learned from the prompt alone.

Without the variable it says how to get the files (they cannot be bundled: 548 MB).
"""

import argparse
import os
import sys
import time

from minitransformer.pretrained import IN_CONTEXT_TASKS, few_shot_prompt, in_context_accuracy, load_gpt2_folder

ENVIRONMENT_VARIABLE = "MINITRANSFORMER_GPT2"
HOW_TO_GET_IT = f"""set {ENVIRONMENT_VARIABLE} to a Hugging Face GPT-2 folder. To make one (548 MB), on a machine
with internet access:
    pip install huggingface_hub
    huggingface-cli download gpt2 config.json model.safetensors tokenizer.json vocab.json merges.txt --local-dir gpt2
  or, with transformers installed:
    python -c "from transformers import AutoModelForCausalLM as M, AutoTokenizer as T; \\
               M.from_pretrained('gpt2').save_pretrained('gpt2'); T.from_pretrained('gpt2').save_pretrained('gpt2')"
then: {ENVIRONMENT_VARIABLE}=gpt2 python benchmarks/gpt2_in_context.py"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, nargs="+", default=[0, 1, 3, 5])
    parser.add_argument("--show", action="store_true", help="print every prompt's answer")
    args = parser.parse_args()
    folder = os.environ.get(ENVIRONMENT_VARIABLE)
    if not folder:
        print(HOW_TO_GET_IT)
        return 2
    start = time.perf_counter()
    model, tokenizer = load_gpt2_folder(folder)
    print(f"loaded {folder}: {sum(p.data.size for p in model.parameters()) / 1e6:.0f}M weights in "
          f"{time.perf_counter() - start:.1f} s\n")
    task = next(iter(IN_CONTEXT_TASKS.values()))
    print("a 3-shot prompt looks like this:\n" + few_shot_prompt(task, 3, task.queries[0][0]) + "\n")
    print(f"{'task':10s}" + "".join(f"{shots:>3d}-shot" for shots in args.shots))
    for name, task in IN_CONTEXT_TASKS.items():
        row = []
        for shots in args.shots:
            accuracy, answers = in_context_accuracy(model, tokenizer, task, shots)
            row.append(accuracy)
            if args.show:
                print(f"  {name} {shots}-shot: " + ", ".join(f"{q} -> {ours!r}" for q, _, ours in answers))
        print(f"{name:10s}" + "".join(f"{accuracy:8.0%}" for accuracy in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
