"""GPT-2 in: a Hugging Face GPT-2 folder loads into our GPT and our byte-level BPE, with GPT-2's outputs.

Golden files: tests/data/gpt2_tiny/ (a small random GPT2LMHeadModel and a byte-level BPE trained by
`tokenizers`, saved in GPT-2's formats) and gpt2_tiny_golden.{json,npz} (what transformers and
tokenizers compute with them), made by benchmarks/golden/make_gpt2_golden.py.  No torch here.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import load_golden
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.models import GPT, gpt_config
from minitransformer.pretrained import PretrainedFormatError, export_gpt2, load_gpt2_folder
from minitransformer.safetensors import load_file, save_file
from minitransformer.tokenizers import BPETokenizer, GPT2Tokenizer, TokenizerFileError
from minitransformer.tokenizers.hf_tokenizer_json import load_tokenizer_json, to_tokenizer_json
from minitransformer.tokenizers.pretokenize import split_chunks

DATA = Path(__file__).parent / "data"
FOLDER = DATA / "gpt2_tiny"
TOLERANCE = 1e-5  # the reference's own float32 error is ~1.4e-6 (see the JSON)


@pytest.fixture(scope="module")
def golden():
    return load_golden(DATA / "gpt2_tiny_golden")


@pytest.fixture(scope="module")
def gpt2():
    return load_gpt2_folder(FOLDER)


def test_the_folder_loads_every_weight(gpt2):
    model, tokenizer = gpt2
    c = model.config
    assert (c.vocab_size, c.context_length, c.n_layers, c.n_heads, c.d_model, c.d_ff) == (588, 32, 2, 4, 32, 128)
    assert c.activation == "gelu_tanh" and not model.training
    assert len(model.load_report.loaded) == 4 + 12 * 2 and model.load_report.left_at_init == ()
    assert isinstance(tokenizer, GPT2Tokenizer) and tokenizer.vocab_size == 588
    assert tokenizer.special_token_ids == {"<|endoftext|>": 587}  # the last id, as in GPT-2


def test_logits_match_transformers(gpt2, golden):
    model, _ = gpt2
    np.testing.assert_allclose(model(golden["fixed_ids"])[0].data, golden["logits"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(model(np.array(golden["text_ids"]))[0].data, golden["text_logits"], rtol=0,
                               atol=TOLERANCE)


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_generation_matches_token_for_token(gpt2, golden, use_cache):
    model, _ = gpt2
    assert golden["greedy_smallest_top2_margin"] > 100 * TOLERANCE  # no near-tie that float error could flip
    for prompt, expected in zip(golden["prompts"], golden["greedy"]):
        out = model.generate(np.array([prompt]), len(expected) - len(prompt), temperature=0, use_cache=use_cache)
        assert out[0].tolist() == expected


@pytest.mark.parametrize("source", ["tokenizer.json", "vocab.json + merges.txt"])
def test_token_ids_are_gpt2s_on_hard_text(golden, source):
    if source == "tokenizer.json":
        tokenizer = load_tokenizer_json(FOLDER / "tokenizer.json")
    else:
        tokenizer = GPT2Tokenizer.from_files(FOLDER / "vocab.json", FOLDER / "merges.txt")
    assert any("²" in text for text in golden["hard_texts"])  # where our stdlib "gpt2" pattern would differ
    for text, expected in zip(golden["hard_texts"], golden["hard_ids"]):
        assert tokenizer.encode(text, allowed_special="all") == expected, repr(text)
        assert tokenizer.decode(expected) == text


def test_special_tokens_are_text_unless_allowed(gpt2):
    _, tokenizer = gpt2
    assert 587 not in tokenizer.encode("a<|endoftext|>b")
    assert tokenizer.encode("a<|endoftext|>b", allowed_special="all")[1] == 587


def test_exact_pattern_differs_from_the_stdlib_one_where_documented():
    assert split_chunks("x² ½", "gpt2") == ["x²", " ½"]  # '²' counts as a letter in the stdlib classes
    assert split_chunks("x² ½", "gpt2-exact") == ["x", "²", " ½"]  # GPT-2: it is a number
    assert split_chunks("a\x1c b", "gpt2-exact") == ["a", "\x1c", " b"]  # not whitespace to GPT-2


@given(text=st.text(max_size=60))
def test_any_text_splits_and_round_trips(gpt2, text):
    _, tokenizer = gpt2
    assert "".join(split_chunks(text, "gpt2-exact")) == text
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_vocab_and_merges_alone_are_enough(tmp_path, gpt2, golden):
    folder = shutil.copytree(FOLDER, tmp_path / "gpt2")
    (folder / "tokenizer.json").unlink()
    model, tokenizer = load_gpt2_folder(folder)
    np.testing.assert_array_equal(model(golden["fixed_ids"])[0].data, gpt2[0](golden["fixed_ids"])[0].data)
    assert tokenizer.encode(golden["hard_texts"][4]) == golden["hard_ids"][4]


def test_export_then_load_round_trips_exactly(tmp_path, gpt2, golden):
    model, tokenizer = gpt2
    folder = export_gpt2(model, tmp_path / "again", tokenizer)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "merges.txt", "model.safetensors",
                                                        "tokenizer.json", "vocab.json"]
    again, tokenizer_again = load_gpt2_folder(folder)
    ours = dict(again.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(ours[name].data, p.data, err_msg=name)
    assert json.loads((folder / "vocab.json").read_text("utf-8")) == json.loads((FOLDER / "vocab.json").read_text("utf-8"))
    assert tokenizer_again.merges == tokenizer.merges
    for text, expected in zip(golden["hard_texts"], golden["hard_ids"]):
        assert tokenizer_again.encode(text, allowed_special="all") == expected
    assert json.loads((folder / "config.json").read_text())["eos_token_id"] == 587


def test_our_gpt_and_bpe_go_out_and_come_back(tmp_path):
    """A GPT trained here, with our byte-level BPE (stdlib "gpt2" split, our id order), round-trips."""
    tokenizer = BPETokenizer(kind="byte")
    tokenizer.train("the cat sat on the mat; x² ½ naïve café 東京 " * 10, 280, special_tokens=["[PAD]", "<|endoftext|>"])
    model = GPT(gpt_config("micro", vocab_size=tokenizer.vocab_size, context_length=12))
    rng = np.random.default_rng(0)
    for p in model.parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    folder = export_gpt2(model, tmp_path / "ours", tokenizer)
    assert json.loads((folder / "tokenizer.json").read_text("utf-8")) == to_tokenizer_json(tokenizer)
    again, tokenizer_again = load_gpt2_folder(folder)
    ids = rng.integers(0, tokenizer.vocab_size, (2, 12))
    np.testing.assert_array_equal(again(ids)[0].data, model.eval()(ids)[0].data)
    for text in ["x² ½ the  cat\n\n", "naïve<|endoftext|>café", "  東京 123"]:
        assert tokenizer_again.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special="all")


def test_gpt2_tokenizer_saves_and_loads_with_its_ids(tmp_path, gpt2, golden):
    _, tokenizer = gpt2
    tokenizer.save(tmp_path / "tok.json")
    again = GPT2Tokenizer.load(tmp_path / "tok.json")
    assert again.get_vocab() == tokenizer.get_vocab()
    assert again.encode(golden["hard_texts"][5]) == golden["hard_ids"][5]
    with pytest.raises(TokenizerFileError, match="'minitransformer-gpt2-bpe'"):
        BPETokenizer.load(tmp_path / "tok.json")


# ============================================================================ bad folders, one line each


def edit_json(name, change):
    def edit(folder):
        path = folder / name
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")
    return edit


def set_config(**fields):
    return edit_json("config.json", lambda config: config.update(fields))


def edit_tensors(change):
    def edit(folder):
        tensors = load_file(folder / "model.safetensors")
        change(tensors)
        save_file(tensors, folder / "model.safetensors")
    return edit


def replace_file(name, content):
    def edit(folder):
        (folder / name).unlink()
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        elif content == "folder":
            (folder / name).mkdir()
    return edit


def remove(*names):
    def edit(folder):
        for name in names:
            (folder / name).unlink()
    return edit


def both(*edits):
    def edit(folder):
        for e in edits:
            e(folder)
    return edit


def no_tokenizer_json(folder):
    (folder / "tokenizer.json").unlink()


BAD_FOLDERS = [
    # (what, edit of a copy of the golden folder, the words the error must say)
    ("config.json missing", remove("config.json"), "lacks config.json"),
    ("pickle instead of safetensors", both(remove("model.safetensors"), replace_file("config.json", b"{}"),
                                           lambda f: (f / "pytorch_model.bin").write_bytes(b"\x80\x04")),
     "pytorch_model.bin, a pickle file"),
    ("no tokenizer", remove("tokenizer.json", "vocab.json"), r"lacks a tokenizer \(tokenizer.json, or vocab.json"),
    ("config.json is a folder", replace_file("config.json", "folder"), "config.json is a folder, not a file"),
    ("malformed config.json", replace_file("config.json", b'{"n_embd": 32,'), "config.json is not valid UTF-8 JSON"),
    ("config.json holds a list", replace_file("config.json", b"[1, 2]"), "config.json must hold a JSON object"),
    ("not a GPT-2", set_config(model_type="bert"), "config.json: model_type is 'bert', not 'gpt2'"),
    ("non-numeric size", set_config(n_embd="32"), "config.json: n_embd must be a positive integer, got '32'"),
    ("boolean size", set_config(n_head=True), "config.json: n_head must be a positive integer, got True"),
    ("zero heads", set_config(n_head=0), "config.json: n_head must be a positive integer, got 0"),
    ("missing size", edit_json("config.json", lambda c: c.pop("n_layer")), "the field 'n_layer' is missing"),
    ("hostile n_layer", set_config(n_layer=10**9), r"n_layer is 1000000000, but model.safetensors holds blocks 0, 1"),
    ("hostile vocab_size", set_config(vocab_size=10**12), r"vocab_size x n_embd is \(1000000000000, 32\)"),
    ("hostile n_positions", set_config(n_positions=10**9), r"n_positions x n_embd is \(1000000000, 32\)"),
    ("hostile n_embd", set_config(n_embd=2**40, n_head=1), r"vocab_size x n_embd is \(588, 1099511627776\)"),
    ("hostile n_inner", set_config(n_inner=10**9), r"n_embd x n_inner is \(32, 1000000000\)"),
    ("heads do not divide", set_config(n_head=5), "n_embd 32 is not divisible by n_head 5"),
    ("non-numeric epsilon", set_config(layer_norm_epsilon="1e-5"), "layer_norm_epsilon must be a number > 0"),
    ("dropout out of range", set_config(resid_pdrop=2), r"resid_pdrop must be a number in \[0, 1\), got 2"),
    ("unknown activation", set_config(activation_function="swish"), "activation_function 'swish' is not one we have"),
    ("unsupported attention", set_config(scale_attn_by_inverse_layer_idx=True), "scale_attn_by_inverse_layer_idx"),
    ("missing tensor", edit_tensors(lambda t: t.pop("transformer.h.1.mlp.c_proj.bias")),
     r"1 tensor\(s\) are missing: h.1.mlp.c_proj.bias"),
    ("extra tensor", edit_tensors(lambda t: t.update({"transformer.h.0.attn.extra": np.zeros(3, np.float32)})),
     "have no place in our GPT: h.0.attn.extra"),
    ("wrong shape", edit_tensors(lambda t: t.update({"transformer.h.0.attn.c_proj.weight": np.zeros((32, 31), np.float32)})),
     r"'h.0.attn.c_proj.weight' has shape \(32, 31\), but our GPT built from config.json needs \(32, 32\)"),
    ("integer weights", edit_tensors(lambda t: t.update({"transformer.ln_f.bias": np.zeros(32, np.int32)})),
     "'ln_f.bias' has dtype int32; weights must be floats"),
    ("untied output layer", edit_tensors(lambda t: t.update({"lm_head.weight": t["transformer.wte.weight"] + 1})),
     "'lm_head.weight' differs from 'wte.weight'"),
    ("truncated weights", lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:5000]),
     "model.safetensors"),
    ("malformed vocab.json", both(no_tokenizer_json, replace_file("vocab.json", b"{")), "vocab.json is not valid JSON"),
    ("vocab.json ids with a gap", both(no_tokenizer_json, edit_json("vocab.json", lambda v: v.update({"Ġthe": 9999}))),
     r"vocab.json: the ids must be the integers 0 .. 587"),
    ("bad merges line", both(no_tokenizer_json, lambda f: (f / "merges.txt").write_text("#version: 0.2\nĠ t\nabc\n")),
     "merges.txt: line 3: 'abc' is not two tokens"),
    ("merge of unknown tokens", both(no_tokenizer_json, lambda f: (f / "merges.txt").write_text("#version: 0.2\nĠt he\n")),
     "merges.txt: line 2: 'Ġt' is neither a byte token nor made by an earlier merge"),
    ("tokenizer.json with a normalizer", edit_json("tokenizer.json", lambda t: t.update({"normalizer": {"type": "NFC"}})),
     "tokenizer.json: normalizer is"),
    ("tokenizer.json of WordPiece", edit_json("tokenizer.json", lambda t: t["model"].update({"type": "WordPiece"})),
     "tokenizer.json: model.type is 'WordPiece', not 'BPE'"),
    ("tokenizer.json with a prefix space", edit_json("tokenizer.json", lambda t: t["pre_tokenizer"].update(
        {"add_prefix_space": True})), "tokenizer.json: the pre_tokenizer"),
    ("a tokenizer larger than the model", edit_json("tokenizer.json", lambda t: t["added_tokens"].append(
        {"id": 588, "content": "<|pad|>", "special": True})), "tokenizer.json has 589 tokens but config.json's vocab_size is 588"),
]


@pytest.mark.parametrize("what, edit, message", BAD_FOLDERS, ids=[case[0] for case in BAD_FOLDERS])
def test_every_bad_folder_is_one_clear_line_naming_the_file(tmp_path, what, edit, message):
    folder = shutil.copytree(FOLDER, tmp_path / "gpt2")
    edit(folder)
    with pytest.raises((FileNotFoundError, ValueError), match=message) as error:
        load_gpt2_folder(folder)
    text = str(error.value)
    assert "\n" not in text and str(folder) in text, text


@pytest.mark.parametrize("path", ["missing", "a_file"])
def test_a_path_that_is_no_folder_is_refused(tmp_path, path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(FileNotFoundError, match="is not a folder; pass the folder that holds a Hugging Face GPT-2"):
        load_gpt2_folder(tmp_path / path)


# ============================================================================ the command line


def test_generate_continues_a_prompt_with_the_folder(capsys, gpt2, golden):
    from minitransformer.cli import main

    _, tokenizer = gpt2
    prompt, expected = golden["prompts"][0], golden["greedy"][0]
    text = tokenizer.decode(prompt)
    assert main(["generate", "--pretrained", str(FOLDER), "--prompt", text, "--temperature", "0",
                 "--max-new-tokens", str(len(expected) - len(prompt))]) == 0
    assert capsys.readouterr().out == tokenizer.decode(expected) + "\n"


def test_finetune_starts_from_the_folder(tmp_path, capsys):
    """GPT-2 has no [PAD]: its <|endoftext|> pads, as Hugging Face pads GPT-2."""
    from minitransformer.cli import main

    data = tmp_path / "task.csv"
    data.write_text("text,label\n" + "".join(f"the dog {w},a\nthe cat {w},b\n" for w in ("sat", "ran", "hid")))
    assert main(["finetune", "--pretrained", str(FOLDER), "--task", str(data), "--test", str(data), "--epochs", "1",
                 "--batch-size", "2"]) == 0
    assert "fine-tuning gpt (pretrained init)" in capsys.readouterr().out


# ============================================================================ in-context learning


def test_few_shot_prompts_show_the_examples_then_ask():
    from minitransformer.pretrained import IN_CONTEXT_TASKS, few_shot_prompt

    task = IN_CONTEXT_TASKS["capitals"]
    assert few_shot_prompt(task, 0, "Italy") == "Give the capital city of each country.\nItaly:"
    assert few_shot_prompt(task, 2, "Italy") == ("Give the capital city of each country.\nFrance: Paris\n"
                                                 "Japan: Tokyo\nItaly:")
    with pytest.raises(ValueError, match="shots must be from 0 to the task's 5 examples, got 6"):
        few_shot_prompt(task, 6, "Italy")


def test_in_context_accuracy_asks_every_query_and_keeps_the_first_line(gpt2):
    from minitransformer.pretrained import IN_CONTEXT_TASKS, few_shot_prompt, in_context_accuracy
    from minitransformer.pretrained.in_context import complete

    model, tokenizer = gpt2
    task = IN_CONTEXT_TASKS["opposites"]
    accuracy, answers = in_context_accuracy(model, tokenizer, task, shots=0)  # the tiny model has 32 positions
    assert [(q, a) for q, a, _ in answers] == list(task.queries)
    assert accuracy == sum(a == ours for _, a, ours in answers) / len(task.queries)
    prompt = few_shot_prompt(task, 0, "big")
    ids = tokenizer.encode(prompt)
    continuation = tokenizer.decode(model.generate(np.array([ids]), 6, temperature=0)[0, len(ids):].tolist())
    assert answers[0][2] == complete(model, tokenizer, prompt) == continuation.split("\n")[0].strip()
