"""What `pretrain` and `generate` do: corpus -> tokenizer -> model -> train -> show what it learned.

This is the main job of the README.  Each model type gets the task of its paper:
GPT causal LM, BERT masked LM, T5 span corruption (see train.py); one tokenizer with every
special token they need serves all three.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import checkpoint, seed
from .corpus import read_corpus, split_train_val
from .models import GPT, T5, build_model, model_from_config
from .tensor import no_grad
from .tokenizers import BPETokenizer, t5_sentinel_tokens
from .train import CausalLM, MaskedLM, SpanCorruption, TrainConfig, train

# Post-norm BERT diverges or stalls at the learning rate pre-norm GPT and T5 are happy with.
DEFAULT_LR = {"gpt": 3e-3, "bert": 1e-3, "t5": 3e-3}

# What the demos feed each model after training (and `generate` without --prompt)
DEMO_TEXT = {"gpt": "The ", "bert": "The [MASK] statement is used to [MASK] a value.",
             "t5": "A function <extra_id_0> a block of code <extra_id_1> called."}

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<|endoftext|>", "</s>"] + t5_sentinel_tokens(16)


def make_tokenizer(text: str, vocab_size: int) -> BPETokenizer:
    tokenizer = BPETokenizer(kind="byte")
    tokenizer.train([text], vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS)
    return tokenizer


def load_tokenizer(path) -> BPETokenizer:
    """A tokenizer from its JSON file, or the one stored inside a checkpoint."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_trained(path)[1]
    return BPETokenizer.load(path)


def load_trained(path):
    """(model, tokenizer, metadata) from a checkpoint written by `pretrain`."""
    saved = checkpoint.load(path)
    meta = saved.metadata
    if "model_type" not in meta or "tokenizer" not in meta:
        raise checkpoint.CheckpointError(f"{path}: not a minitransformer pretraining checkpoint "
                                         "(no model_type/tokenizer in its metadata)")
    model = model_from_config(meta["model_type"], meta["model_config"])
    checkpoint.load(path, model)
    return model, BPETokenizer.from_dict(meta["tokenizer"]), meta


def make_task(kind: str, model, tokenizer: BPETokenizer):
    c = model.config
    if kind == "gpt":
        return CausalLM(context=c.context_length)
    ids = {name: tokenizer.token_to_id(name) for name in tokenizer.special_tokens}
    if kind == "bert":
        return MaskedLM(context=c.context_length, vocab_size=c.vocab_size, cls_id=ids["[CLS]"],
                        sep_id=ids["[SEP]"], mask_id=ids["[MASK]"], special_ids=sorted(ids.values()))
    sentinels = [ids[name] for name in t5_sentinel_tokens(16)]
    return SpanCorruption(context=c.context_length, sentinel_ids=sentinels, eos_id=ids["</s>"], pad_id=ids["[PAD]"])


def run_pretrain(args) -> dict:
    out_dir = Path(args.out or f"runs/{args.model}")
    given = {name: getattr(args, name) for name in TrainConfig.__dataclass_fields__
             if getattr(args, name, None) is not None}
    config = TrainConfig(**{"lr": DEFAULT_LR[args.model], **given})
    text = read_corpus(args.corpus)
    if args.resume:
        model, tokenizer, meta = load_trained(out_dir / "checkpoint.safetensors")
        if meta["model_type"] != args.model:
            raise ValueError(f"{out_dir} holds a {meta['model_type']} run, not {args.model}; "
                             f"pass --model {meta['model_type']}")
    else:
        if args.tokenizer:
            tokenizer = load_tokenizer(args.tokenizer)
            print(f"tokenizer: {args.tokenizer} ({tokenizer.vocab_size} tokens)")
        else:
            tokenizer = make_tokenizer(text, args.vocab_size)
            print(f"tokenizer: byte-level BPE, {tokenizer.vocab_size} tokens, trained on {len(text):,} characters")
        overrides = {"vocab_size": tokenizer.vocab_size}
        if args.context:
            overrides["context_length"] = args.context
        if args.dropout is not None:
            overrides["dropout"] = args.dropout
        if args.model == "t5":
            overrides["pad_id"] = tokenizer.token_to_id("[PAD]")
        seed.manual_seed(config.seed)  # --seed fixes the initial weights as well as the batches
        model = build_model(args.model, args.preset, **overrides)
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    train_ids, val_ids = split_train_val(ids)
    if len(val_ids) <= model.config.context_length + 1:
        raise ValueError(f"the corpus is too small: {len(ids):,} tokens leave {len(val_ids):,} for validation, "
                         f"fewer than one window of {model.config.context_length + 1}; give more text or a smaller --context")
    print(f"corpus: {len(text):,} characters -> {len(ids):,} tokens ({len(train_ids):,} train, {len(val_ids):,} val)")
    print(f"model: {args.model} '{args.preset}', {model.num_parameters():,} parameters; "
          f"{config.steps} steps of {config.batch_size} x {model.config.context_length} tokens")
    task = make_task(args.model, model, tokenizer)
    if args.model == "gpt" and not args.resume and args.samples:
        print("\nbefore training, the model writes noise:")
        print(_indent(sample_gpt(model, tokenizer, DEMO_TEXT["gpt"], 60, seed=0)))
        print()
    metadata = {"model_type": args.model, "model_config": model.config.to_dict(), "tokenizer": tokenizer.to_dict(),
                "preset": args.preset}
    summary = train(model, task, train_ids, val_ids, config, out_dir, metadata, resume=args.resume)
    print(f"\ndone: step {summary['step']}, train loss {summary['train_loss']:.4f}, "
          f"val loss {summary['val_loss'] if summary['val_loss'] is None else round(summary['val_loss'], 4)}; "
          f"checkpoint {summary['checkpoint']}")
    if args.samples and summary["stopped"] == "finished":
        show_what_it_learned(args.model, model, tokenizer, args.samples)
    return summary


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def sample_gpt(model: GPT, tokenizer, prompt: str, max_new_tokens: int, temperature=0.8, top_k=40, top_p=None,
               seed=None) -> str:
    prompt_ids = tokenizer.encode(prompt, allowed_special="all")
    if not prompt_ids:
        raise ValueError("the prompt is empty; give at least one character")
    if len(prompt_ids) > model.config.context_length:
        raise ValueError(f"the prompt is {len(prompt_ids)} tokens, longer than the model's context of "
                         f"{model.config.context_length}; shorten it")
    out = model.generate(np.array([prompt_ids]), max_new_tokens, temperature=temperature, top_k=top_k,
                         top_p=top_p, seed=seed)
    return tokenizer.decode(out[0].tolist())


def fill_spans_t5(model: T5, tokenizer, text: str, max_new_tokens: int = 30, temperature=0.0, seed=None) -> str:
    ids = tokenizer.encode(text, allowed_special="all") + [tokenizer.token_to_id("</s>")]
    if len(ids) > model.config.context_length:
        raise ValueError(f"the input is {len(ids)} tokens, longer than the model's context of "
                         f"{model.config.context_length}; shorten it")
    out = model.generate(np.array([ids]), min(max_new_tokens, model.config.context_length - 1),
                         temperature=temperature, stop_token=tokenizer.token_to_id("</s>"), seed=seed)
    return tokenizer.decode(out[0].tolist())


@no_grad()
def guess_masks_bert(model, tokenizer, text: str, top: int = 5) -> list:
    """For each [MASK] in text: the model's `top` guesses with probabilities."""
    ids = [tokenizer.token_to_id("[CLS]")] + tokenizer.encode(text, allowed_special="all") + [tokenizer.token_to_id("[SEP]")]
    if len(ids) > model.config.context_length:
        raise ValueError(f"the text is {len(ids)} tokens, longer than the model's context of {model.config.context_length}")
    model.eval()
    logits, _ = model.mlm(np.array([ids]))
    guesses = []
    for position in np.flatnonzero(np.array(ids) == tokenizer.token_to_id("[MASK]")):
        row = logits.data[0, position].astype(np.float64)
        probs = np.exp(row - row.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:top]
        guesses.append([(tokenizer.decode([int(i)]), float(probs[i])) for i in best])
    return guesses


def show_what_it_learned(kind: str, model, tokenizer, samples: int) -> None:
    """GPT: samples; BERT: its guesses for masked words; T5: the spans it fills."""
    text = DEMO_TEXT[kind]
    try:
        if kind == "gpt":
            print(f"\nafter training, samples from the prompt {text!r}:")
            for i in range(samples):
                print(f"--- sample {i + 1} ---")
                print(_indent(sample_gpt(model, tokenizer, text, 200, seed=i)))
        elif kind == "bert":
            print(f"\nBERT's guesses for each [MASK] in: {text}")
            for n, guesses in enumerate(guess_masks_bert(model, tokenizer, text), 1):
                print(f"  mask {n}: " + ", ".join(f"{token!r} {p:.2f}" for token, p in guesses))
        else:
            print(f"\nT5 fills the spans of: {text}")
            print(_indent(fill_spans_t5(model, tokenizer, text)))
    except ValueError as error:  # a demo text longer than a very small model's context
        print(f"(no demo: {error})")


def run_generate(args) -> None:
    model, tokenizer, meta = load_trained(args.checkpoint)
    kind = meta["model_type"]
    if kind == "bert":
        model.generate()  # raises the explanation of why an encoder cannot generate
    for i in range(args.num_samples):
        sample_seed = None if args.seed is None else args.seed + i
        prompt = args.prompt if args.prompt is not None else DEMO_TEXT[kind]
        if kind == "gpt":
            text = sample_gpt(model, tokenizer, prompt, args.max_new_tokens, args.temperature, args.top_k,
                              args.top_p, sample_seed)
        else:
            text = fill_spans_t5(model, tokenizer, prompt, args.max_new_tokens, args.temperature, sample_seed)
        if args.num_samples > 1:
            print(f"--- sample {i + 1} ---")
        print(text)
