"""The exercises at the end of each lesson: what runs your attempt and says whether it is right.

A lesson ends with a few exercises.  Each is a function you write (a stub that raises
NotImplementedError until you do), and one line that checks it:

    report("causal_mask", causal_mask, attention_checks.check_causal_mask)

`report` calls the checker on your function and prints one of

    exercise causal_mask: not attempted yet — write it above, then run this cell again (...)
    exercise causal_mask: wrong — row 0, column 1 of the mask is 0.0, expected -inf
    exercise causal_mask: right

A checker compares your function with the library's own implementation (or, for a backward,
with finite differences) on a few inputs, and raises `ExerciseWrong` naming the first element
that differs.  Layout, one pair of files per lesson:

    lessons/exercises/<topic>.py   the checkers, EXERCISES = {name: checker}, MISTAKES = {name: [...]}
    lessons/solutions/<topic>.py   one worked solution per exercise, named like its EXERCISES key

MISTAKES lists plausible wrong answers; tests/test_exercises.py checks that each checker accepts
the solution, rejects every mistake with a message, and reports a stub as not attempted.  A
solutions file defines only the exercise functions (name helpers with a leading underscore).

To add exercises to a lesson: write lessons/exercises/<topic>.py with checkers that call the
attempt through `call(...)` and compare with `compare_arrays` / `compare_values` (or
`check_backward` for a backward), EXERCISES and MISTAKES; lessons/solutions/<topic>.py; and in
the lesson a final "## Exercises" section with the stubs and one `report(...)` line each.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["ExerciseWrong", "report", "call", "compare_arrays", "compare_values", "check_backward"]


class ExerciseWrong(AssertionError):
    """The attempt gave a wrong answer; the message says where."""


def _topic(checker) -> str:
    module = getattr(checker, "__module__", "") or ""
    return module.rsplit(".", 1)[-1] if module.startswith("exercises.") else "<topic>"


def report(name: str, attempt, checker) -> str:
    """Run `checker(attempt)`; print and return "right", "wrong" or "not attempted"."""
    try:
        checker(attempt)
    except NotImplementedError:
        print(f"exercise {name}: not attempted yet — write it above, then run this cell again "
              f"(a solution: lessons/solutions/{_topic(checker)}.py)")
        return "not attempted"
    except ExerciseWrong as wrong:
        print(f"exercise {name}: wrong — {wrong}")
        return "wrong"
    print(f"exercise {name}: right")
    return "right"


def call(attempt, *args, **kwargs):
    """attempt(*args, **kwargs); an error it raises (a shape that does not fit, usually) is a wrong answer.

    The message keeps the error and the line of the attempt where it happened.
    NotImplementedError passes through: that is the stub, not attempted yet.
    """
    try:
        return attempt(*args, **kwargs)
    except NotImplementedError:
        raise
    except (ValueError, TypeError, IndexError, AttributeError, KeyError) as error:
        import traceback

        frames = traceback.extract_tb(error.__traceback__)
        line = f" (at line {frames[1].lineno}: {frames[1].line})" if len(frames) > 1 and frames[1].line else ""
        raise ExerciseWrong(f"it raised {type(error).__name__}: {error}{line}") from None


def _as_array(value):
    """A Tensor's array, or the value itself."""
    return value.numpy() if hasattr(value, "numpy") and not isinstance(value, np.ndarray) else value


# --------------------------------------------------------------------------------------------
# Comparing an answer with the expected one, naming the first difference
# --------------------------------------------------------------------------------------------


def _where(index: tuple, what: str) -> str:
    if len(index) == 0:
        return what
    if len(index) == 1:
        return f"element {index[0]} of {what}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]} of {what}"
    return f"{what}[{', '.join(str(i) for i in index)}]"


def _number(x) -> str:
    if not isinstance(x, (float, np.floating)):
        return str(x)
    text = f"{x:.6g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def compare_arrays(got, expected, what: str, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Raise ExerciseWrong unless `got` has `expected`'s shape and values (infinities must match).

    The message names the first element that differs, e.g.
    "row 2, column 3 of the mask is 0.0, expected -inf".
    """
    expected = np.asarray(_as_array(expected))
    got = _as_array(got)
    if got is None:
        raise ExerciseWrong(f"{what} is None (did the function forget to return it?)")
    try:
        got = np.asarray(got, dtype=np.result_type(expected.dtype, np.float64)
                         if expected.dtype.kind == "f" else None)
    except (TypeError, ValueError) as error:
        raise ExerciseWrong(f"{what} is not an array of numbers ({error})") from None
    if got.shape != expected.shape:
        raise ExerciseWrong(f"{what} has shape {got.shape}, expected {expected.shape}")
    if expected.dtype.kind == "b" or expected.dtype.kind in "iu":
        bad = got != expected
    else:
        both_inf = np.isinf(got) & np.isinf(expected) & (np.sign(got) == np.sign(expected))
        close = np.isclose(got, expected, atol=atol, rtol=rtol) | both_inf
        bad = ~close
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ExerciseWrong(f"{_where(index, what)} is {_number(got[index])}, expected {_number(expected[index])}"
                            + (f" ({int(bad.sum())} of {bad.size} elements differ)" if bad.sum() > 1 else ""))


def compare_values(got, expected, what: str) -> None:
    """Raise ExerciseWrong unless got == expected (lists, dicts, numbers), saying what differs."""
    if got == expected:
        return
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in expected:
            if key not in got:
                raise ExerciseWrong(f"{what} has no entry for {key!r}; expected {expected[key]!r}")
            if got[key] != expected[key]:
                raise ExerciseWrong(f"{what}[{key!r}] is {got[key]!r}, expected {expected[key]!r}")
        extra = next(key for key in got if key not in expected)
        raise ExerciseWrong(f"{what} has an entry {extra!r}: {got[extra]!r} that should not be there")
    raise ExerciseWrong(f"{what} is {got!r}, expected {expected!r}")


# --------------------------------------------------------------------------------------------
# "Write this op's backward": the attempt runs inside an autograd Function, checked by gradcheck
# --------------------------------------------------------------------------------------------

_GRADCHECK_MESSAGE = re.compile(r"gradcheck failed for (?P<name>.+?) \(shape .*?\) at element \((?P<index>[^)]*)\): "
                                r"backward\(\) gives (?P<got>\S+) but finite differences give (?P<numeric>\S+?) ")


def check_backward(forward, backward, inputs, names, library=None, seed: int = 0) -> None:
    """Check a hand-written backward against the library's op and against finite differences.

    forward(*arrays) -> (output, saved): the op's forward, in NumPy, and what backward needs.
    backward(saved, grad_output) -> one gradient per input (a tuple); this calls the attempt.
    inputs: NumPy arrays (float64); names: their names in messages ("x", "a", "b").
    library(*tensors) -> Tensor: the same op built from the library's Tensors (the oracle), or None.
    Raises ExerciseWrong naming the first wrong gradient element.
    """
    import minitransformer as mt

    shapes = [np.shape(x) for x in inputs]

    def checked_backward(saved, grad_output):
        grads = call(backward, saved, grad_output)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(inputs):
            raise ExerciseWrong(f"backward returned {len(grads)} gradients, expected {len(inputs)} "
                                f"(one for each of {', '.join(names)})")
        for grad, shape, name in zip(grads, shapes, names):
            if grad is None:
                raise ExerciseWrong(f"the gradient of {name} is None (did the function forget to return it?)")
            if np.shape(grad) != shape:
                raise ExerciseWrong(f"the gradient of {name} has shape {np.shape(grad)}, expected {shape} "
                                    f"(the shape of {name})")
        return grads

    class Attempt(mt.Function):
        @staticmethod
        def forward(ctx, *arrays):
            output, saved = forward(*arrays)
            ctx.saved = saved
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return checked_backward(ctx.saved, grad_output)

    if library is not None:  # the same upstream gradient through the library's op and the attempt
        output, saved = forward(*[np.array(x, dtype=np.float64) for x in inputs])
        grad_output = np.random.default_rng(seed).standard_normal(np.shape(output))
        grads = checked_backward(saved, grad_output.copy())
        tensors = [mt.Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
        (library(*tensors) * mt.Tensor(grad_output)).sum().backward()
        for grad, tensor, name in zip(grads, tensors, names):
            compare_arrays(grad, tensor.grad.data, f"the gradient of {name}", atol=1e-7, rtol=1e-5)

    tensors = [mt.Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    try:
        mt.gradcheck(lambda *ts: Attempt.apply(*ts), tensors, names=list(names))
    except mt.GradcheckError as error:
        match = _GRADCHECK_MESSAGE.search(str(error))
        if match is None:
            raise ExerciseWrong(str(error)) from None
        raise ExerciseWrong(f"grad of {match['name']}[{match['index'].rstrip(',')}] is {match['got']}, "
                            f"finite differences give {match['numeric']}") from None
