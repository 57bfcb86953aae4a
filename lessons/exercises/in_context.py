"""Checkers for lesson 9's exercises: a few-shot prompt, and the rules that fit a prompt's examples."""

import itertools

from minitransformer.pretrained.in_context import IN_CONTEXT_TASKS, few_shot_prompt as library_few_shot_prompt

from exercises import ExerciseWrong, call, compare_values

RULES = ["".join(p) for p in itertools.product(*[(c, c.upper()) for c in "abc"])]  # abc, abC, aBc, ... ABC


def _apply(rule, word):
    return "".join(c.upper() if r.isupper() else c for c, r in zip(word, rule))


def check_few_shot_prompt(few_shot_prompt):
    """few_shot_prompt(task, shots, query) -> the prompt text, as in_context.few_shot_prompt writes it."""
    for name, task in IN_CONTEXT_TASKS.items():
        for shots in (0, 1, 3):
            query = task.queries[0][0]
            got = call(few_shot_prompt, task, shots, query)
            expected = library_few_shot_prompt(task, shots, query)
            if got != expected:
                got_lines = got.split("\n") if isinstance(got, str) else [repr(got)]
                expected_lines = expected.split("\n")
                for line, (mine, theirs) in enumerate(itertools.zip_longest(got_lines, expected_lines)):
                    if mine != theirs:
                        raise ExerciseWrong(f"task {name!r} with {shots} shots: line {line + 1} is {mine!r}, "
                                            f"expected {theirs!r}")


def check_rules_that_fit(rules_that_fit):
    """rules_that_fit(pairs, rules) -> the rules r (in the order given) with r(x) == y for every (x, y)."""
    cases = [[], [("cat", "cAt")], [("c4t", "c4t")], [("c4t", "C4t"), ("d9g", "D9g")], [("c4t", "C4t"), ("5og", "5Og")],
             [("cat", "CAT"), ("dog", "dog")], [("1t2", "1T2")]]  # a digit shows nothing of its position
    for pairs in cases:
        expected = [rule for rule in RULES if all(_apply(rule, x) == y for x, y in pairs)]
        got = call(rules_that_fit, list(pairs), list(RULES))
        compare_values(list(got) if isinstance(got, (list, tuple)) else got, expected,
                       f"the rules that fit {pairs}")


def _no_instruction(task, shots, query):
    return "\n".join([*(f"{q}: {a}" for q, a in task.examples[:shots]), f"{query}:"])


def _answer_space_missing(task, shots, query):
    return "\n".join([task.instruction, *(f"{q}:{a}" for q, a in task.examples[:shots]), f"{query}:"])


def _digits_never_fit(pairs, rules):  # asks every answer character to show its case; a digit shows none
    return [r for r in rules if all(all(ch.isupper() if m.isupper() else ch.islower() for m, ch in zip(r, y))
                                    for _, y in pairs)]


def _case_blind(pairs, rules):
    return [r for r in rules if all(_apply(r, x).lower() == y.lower() for x, y in pairs)]


EXERCISES = {"few_shot_prompt": check_few_shot_prompt, "rules_that_fit": check_rules_that_fit}

MISTAKES = {
    "few_shot_prompt": [_no_instruction, _answer_space_missing],
    "rules_that_fit": [_case_blind, _digits_never_fit, lambda pairs, rules: rules[:1]],
}
