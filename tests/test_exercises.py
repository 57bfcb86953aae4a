"""Every lesson exercise's checker accepts its worked solution and rejects plausible mistakes.

The checkers live in lessons/exercises/<topic>.py (EXERCISES and MISTAKES), the solutions in
lessons/solutions/<topic>.py, one function per exercise with the same name.  For every exercise:
(a) the solution is "right"; (b) each mistake raises ExerciseWrong with a message that says
where; (c) a stub that raises NotImplementedError is "not attempted" (and the report says where
the solution is).  Every solution has a checker and every checker a solution.
"""

import contextlib
import importlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
if str(LESSONS) not in sys.path:
    sys.path.insert(0, str(LESSONS))  # as when a lesson runs: `from exercises import report`

exercises = importlib.import_module("exercises")
TOPICS = sorted(p.stem for p in (LESSONS / "exercises").glob("*.py") if p.stem != "__init__")


def checker_module(topic):
    return importlib.import_module(f"exercises.{topic}")


def solution_module(topic):
    path = LESSONS / "solutions" / f"{topic}.py"
    spec = importlib.util.spec_from_file_location(f"lesson_solutions_{topic}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_functions(module):
    return {name for name, value in vars(module).items()
            if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == module.__name__}


CASES = [(topic, name) for topic in TOPICS for name in checker_module(topic).EXERCISES]


def quiet_report(name, attempt, checker):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = exercises.report(name, attempt, checker)
    return result, out.getvalue()


def test_topics_are_found():
    assert {"autograd"} <= set(TOPICS), TOPICS


@pytest.mark.parametrize("topic", TOPICS)
def test_every_solution_has_a_checker_and_every_checker_a_solution(topic):
    module = checker_module(topic)
    assert (LESSONS / "solutions" / f"{topic}.py").exists(), f"lessons/solutions/{topic}.py is missing"
    assert public_functions(solution_module(topic)) == set(module.EXERCISES)
    assert set(module.MISTAKES) == set(module.EXERCISES), "every exercise needs at least one plausible mistake"


@pytest.mark.parametrize("topic, name", CASES)
def test_the_solution_is_right(topic, name):
    checker = checker_module(topic).EXERCISES[name]
    result, printed = quiet_report(name, getattr(solution_module(topic), name), checker)
    assert result == "right", printed
    assert printed.strip() == f"exercise {name}: right"


@pytest.mark.parametrize("topic, name", CASES)
def test_plausible_mistakes_are_wrong_and_say_where(topic, name):
    module = checker_module(topic)
    mistakes = module.MISTAKES[name]
    assert mistakes
    for mistake in mistakes:
        with pytest.raises(exercises.ExerciseWrong) as caught:
            module.EXERCISES[name](mistake)
        message = str(caught.value)
        # where it went wrong: an element, a shape, an entry, or the error the attempt raised
        assert re.search(r"\d|shape|raised|None|expected", message) and len(message) > 15, message
        result, printed = quiet_report(name, mistake, module.EXERCISES[name])
        assert result == "wrong" and printed.startswith(f"exercise {name}: wrong — "), printed


@pytest.mark.parametrize("topic, name", CASES)
def test_a_stub_is_not_attempted(topic, name):
    def stub(*args, **kwargs):
        raise NotImplementedError  # your code

    result, printed = quiet_report(name, stub, checker_module(topic).EXERCISES[name])
    assert result == "not attempted", printed
    assert f"lessons/solutions/{topic}.py" in printed


def test_report_names_the_first_differing_element():
    with pytest.raises(exercises.ExerciseWrong, match=r"row 2, column 3 of the mask is 0(\.0)?, expected -inf"):
        import numpy as np
        expected = np.triu(np.full((4, 4), -np.inf), 1)
        got = expected.copy()
        got[2, 3] = 0.0
        exercises.compare_arrays(got, expected, "the mask")


def test_the_top_p_oracle_is_the_rule_the_library_samples_with():
    import numpy as np

    from minitransformer.models.generation import choose_next_token

    gpt_checks = checker_module("gpt")
    logits = np.random.default_rng(0).standard_normal((3, 12))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for p in (0.3, 0.7, 0.9):
        support = gpt_checks.nucleus(probs, p) > 0
        draws = choose_next_token(np.repeat(logits, 200, axis=0), top_p=p, rng=np.random.default_rng(1))
        sampled = np.zeros_like(support)
        sampled[np.repeat(np.arange(3), 200), draws] = True
        assert (sampled == support).all(), f"top_p={p}: the library samples {sampled}, the oracle keeps {support}"


def test_every_lesson_reports_real_exercises_and_every_exercise_is_in_a_lesson():
    reported = {}
    for lesson in sorted(LESSONS.glob("[0-9][0-9]_*.py")):
        calls = re.findall(r'report\(\s*"(\w+)",\s*\w+,\s*(?:\w+\.)*(\w+)\s*\)', lesson.read_text(encoding="utf-8"))
        for name, checker in calls:
            reported[name] = (lesson.name, checker)
    for topic in TOPICS:
        for name, checker in checker_module(topic).EXERCISES.items():
            assert name in reported, f"exercise {name} ({topic}) is in no lesson's Exercises section"
            assert reported[name][1] == checker.__name__, f"{reported[name][0]} checks {name} with {reported[name][1]}"
