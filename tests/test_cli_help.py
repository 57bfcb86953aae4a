"""`--help` of every command: each option explained, with its default; pretrain's examples; presets."""

from __future__ import annotations

import argparse

import pytest

from minitransformer.commands import COMMANDS, HelpFormatter, build_parser, main


def command_parsers(parser=None, prefix=()):
    """(name, parser) for every command and sub-command (`tokenizer train`, ...)."""
    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield " ".join((*prefix, name)), sub
                yield from command_parsers(sub, (*prefix, name))


def options(parser):
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


def test_every_command_is_covered():
    names = {name for name, _ in command_parsers()}
    assert set(COMMANDS) <= names and {"tokenizer train", "tokenizer encode"} <= names


@pytest.mark.parametrize("name,parser", list(command_parsers()))
def test_every_option_has_help_and_shows_its_default(name, parser):
    formatter = HelpFormatter(parser.prog)
    must_give = {id(a) for group in parser._mutually_exclusive_groups if group.required for a in group._group_actions}
    for action in options(parser):
        flag = action.option_strings[-1]
        assert action.help and action.help.strip(), f"`{name} {flag}` has no help text"
        if action.nargs != 0 and not action.required and id(action) not in must_give:  # what if not given
            assert "default" in formatter._get_help_string(action), f"`{name} {flag}`'s help shows no default"


def test_defaults_are_rendered(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 200)" in text  # --max-new-tokens


def test_pretrain_help_ends_with_two_examples(capsys):
    with pytest.raises(SystemExit):
        main(["pretrain", "--help"])
    tail = capsys.readouterr().out.rstrip().splitlines()[-3:]
    assert tail[0].strip().lower().startswith("examples")
    assert all(line.strip().startswith("python -m minitransformer pretrain") for line in tail[1:])
    for line in tail[1:]:  # the examples themselves parse
        build_parser().parse_args(line.split()[3:])


def test_list_presets_names_every_preset_with_its_size(capsys):
    from minitransformer.models import MODEL_TYPES

    assert main(["info", "--list-presets"]) == 0
    out = capsys.readouterr().out
    for kind, (_, _, presets) in MODEL_TYPES.items():
        for preset in presets:
            assert any(line.split()[:2] == [kind, preset] for line in out.splitlines()), f"{kind} {preset} missing"
    assert "124,439,808" in out  # GPT-2 small, counted exactly (Hugging Face's figure)


def test_an_error_message_keeps_its_closing_quote(capsys):
    from minitransformer.commands import message_of
    from minitransformer.tokenizers import UnknownTokenError

    assert message_of(ValueError("finetune supports gpt and bert checkpoints, not 't5'")).endswith("not 't5'")
    assert message_of(UnknownTokenError("no token 'x' in the vocabulary")) == "no token 'x' in the vocabulary"
