# %% [markdown]
# # Lesson 1: tensors and reverse-mode autograd
#
# Training a network means asking one question over and over: *if I nudge this weight a
# little, how much does the loss change?*  The answer for every weight at once, dL/dw, is the
# gradient.  The part of a framework that computes it is automatic differentiation.  A
# transformer has millions of weights and one scalar loss, and for that shape of problem the
# efficient method runs *backward*, from the loss to the weights: reverse mode.
#
# This lesson builds the idea on a graph small enough to differentiate with pencil and paper,
# and then lets minitransformer's engine do the same job and checks that the two agree:
#
# 1. a tensor remembers the operation that made it;
# 2. `backward()` applies the chain rule from the loss back to the inputs;
# 3. a tensor used twice receives the *sum* of the gradients from both uses;
# 4. `gradcheck` compares a backward pass with finite differences, and when a backward is
#    wrong its error message says where;
# 5. an operation you write yourself trains like a built-in one.
#
# Every claim is checked with `assert`.  If the engine ever stopped behaving as described,
# the lesson would crash rather than quietly teach something false.
#
# Run it as a script (`python lessons/01_autograd.py`) or cell by cell as a notebook.
# `MINITRANSFORMER_QUICK=1` gives the short version the test suite runs.

# %%

import numpy as np

import minitransformer as mt

from lesson_setup import QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


# %% [markdown]
# ## 1. A tensor that remembers where it came from
#
# A `Tensor` wraps a NumPy array (its `.data`).  Create it with `requires_grad=True`, and each
# operation applied to it records a node in a graph: which operation ran, on which inputs, and
# whatever that operation will need later to compute its derivative.  The output's `grad_fn`
# names the operation.  A tensor you made yourself, rather than computed, is a *leaf*: it has no
# `grad_fn`, and it is where gradients end up.
#
# Our graph is  L = tanh(a * b + c),  built one operation per line so that every intermediate
# value has a name.  We use float64, so the hand computation and the engine can be compared to
# (almost) the last digit.

# %%
a = mt.Tensor(0.9, dtype=np.float64, requires_grad=True)
b = mt.Tensor(-1.2, dtype=np.float64, requires_grad=True)
c = mt.Tensor(0.4, dtype=np.float64, requires_grad=True)

u = a * b  # u = a b
z = u + c  # z = u + c
L = z.tanh()  # L = tanh(z)

for name, t in [("a", a), ("b", b), ("c", c), ("u", u), ("z", z), ("L", L)]:
    print(f"{name} = {t.item():+.6f}   grad_fn = {t.grad_fn}   leaf = {t.is_leaf}")

assert (u.grad_fn, z.grad_fn, L.grad_fn) == ("Mul", "Add", "Tanh")
assert a.is_leaf and not L.is_leaf

# %% [markdown]
# ## 2. Backward by hand, then by the engine
#
# The chain rule says: the gradient arriving at a node from above (the *upstream* gradient),
# times the node's own *local* derivative, is the gradient to pass down to that input.  Start
# at the top with dL/dL = 1 and walk down:
#
#     dL/dz = dL/dL * tanh'(z) = 1 - L^2      (tanh' = 1 - tanh^2, and tanh(z) is L)
#     dL/du = dL/dz * dz/du    = dL/dz        (z = u + c: an addition passes its gradient through)
#     dL/dc = dL/dz * dz/dc    = dL/dz
#     dL/da = dL/du * du/da    = dL/du * b    (u = a b: a product sends each input the other one)
#     dL/db = dL/du * du/db    = dL/du * a
#
# The order matters: we could not compute dL/du before dL/dz.  The engine sorts the graph so
# that every node comes after the nodes that use it (a reverse topological order), then visits
# each node once.  That is all of `Tensor.backward`: one sweep, and every leaf gets its
# gradient, however many leaves there are.  (Forward mode would need one sweep per leaf; with
# millions of weights and one loss, reverse mode wins.)

# %%
dL_dz = 1.0 - L.item() ** 2
dL_du = dL_dz * 1.0
dL_dc = dL_dz * 1.0
dL_da = dL_du * b.item()
dL_db = dL_du * a.item()
by_hand = {"a": dL_da, "b": dL_db, "c": dL_dc}

L.backward()  # the engine: fills .grad of every leaf that requires grad
by_engine = {"a": a.grad, "b": b.grad, "c": c.grad}

for name in by_hand:
    print(f"dL/d{name}:  by hand {by_hand[name]:+.12f}   engine {float(by_engine[name]):+.12f}")
    assert np.isclose(by_hand[name], by_engine[name], rtol=1e-12, atol=0), name

# Gradients are kept for leaves only (as in PyTorch): intermediate results are not what we update.
assert u.grad is None and z.grad is None
print("hand == engine for a, b and c")

# %% [markdown]
# ### Watching the engine do it
#
# `minitransformer.instruments.trace_backward` runs the very same sweep as `backward()` but
# stops at each node to show what happened there: which op, the gradient that arrived from
# above, the local rule (from the op's docstring) and what it sent down to each input.  Read it
# next to the hand computation above: the rows are the lines of that derivation, in order.

# %%
from minitransformer.instruments import trace_backward

a2, b2, c2 = (mt.Tensor(v, dtype=np.float64, requires_grad=True) for v in (a.item(), b.item(), c.item()))
L2 = (a2 * b2 + c2).tanh()
steps = []
for step in trace_backward(L2, names={"a": a2, "b": b2, "c": c2}):
    steps.append(step)
    print(f"{step.index}. {step.op:<4}  arrives: dL/d(output) = {float(step.grad_output):+.6f}   rule: {step.rule.splitlines()[0]}")
    for sent in step.inputs:
        print(f"        sends {float(sent.grad):+.6f} to {sent.source}")
assert [s.op for s in steps] == ["Tanh", "Add", "Mul"]
assert np.isclose(float(steps[1].grad_output), dL_dz)  # what reached the addition is dL/dz
assert np.isclose(float(a2.grad), dL_da) and np.isclose(float(c2.grad), dL_dc)

# %% [markdown]
# ## 3. A tensor used twice receives the sum of its gradients
#
# When x feeds two operations, nudging x changes the result along both paths, and the two
# effects add up.  This is the multivariable chain rule: dL/dx is a sum over every path from x
# to L.  Take  f = x * x + x,  so  df/dx = 2x + 1.  In the graph, the `Mul` node has x as *both*
# of its inputs and sends x * g back to each of them, and the `Add` node sends g to x once more:
# three contributions, which the engine adds up.

# %%
x = mt.Tensor(1.5, dtype=np.float64, requires_grad=True)
f = x * x + x
f.backward()
print(f"x = {x.item()},  df/dx by the engine = {float(x.grad)},  2x + 1 = {2 * x.item() + 1}")
assert float(x.grad) == 2 * 1.5 + 1

# %% [markdown]
# Gradients also add up *across* calls to `backward()`: the engine adds the new gradient to
# whatever `x.grad` already holds, rather than replacing it.  That is on purpose.  It lets you
# sum the gradients of several small batches before taking one optimizer step (gradient
# accumulation, for when a big batch does not fit in memory).  It is also why every training
# loop clears the gradients first, with `optimizer.zero_grad()` or `model.zero_grad()`;
# forgetting to clear them is a classic bug.

# %%
f_again = x * x + x  # a fresh graph; the first one was freed by its backward()
f_again.backward()
print(f"after a second backward, x.grad = {float(x.grad)} (two calls' worth, 2 x 4.0)")
assert float(x.grad) == 2 * (2 * 1.5 + 1)
x.grad = None  # what zero_grad() does

# %% [markdown]
# A graph can be walked backward only once.  `backward()` frees what each node saved for it (in
# a big model that is most of the memory), and a second walk stops with a message explaining
# why.  Pass `retain_graph=True` to the first call if you truly need two walks.

# %%
try:
    f_again.backward()
except RuntimeError as error:  # the error we came for: the lesson goes on
    print("expected RuntimeError (a deliberate second backward):", error)
else:
    raise AssertionError("a second backward through a freed graph should have failed")

# %% [markdown]
# ## 4. gradcheck: testing a backward against finite differences
#
# The engine's answers are only as good as each operation's backward formula, and every one of
# those formulas was derived and typed by hand.  `mt.gradcheck` checks them independently: it
# nudges one input element at a time up and down by a small eps and measures the change,
#
#     (f(x + eps) - f(x - eps)) / (2 eps)  =  df/dx + O(eps^2),
#
# then compares that number with what `backward()` returned, element by element.  It needs
# float64.  With float32's 7 significant digits, f(x + eps) - f(x - eps) for eps = 1e-6 would be
# mostly rounding noise.
#
# If the function returns many numbers, gradcheck reduces them to one scalar, sum(f * r), with
# r a fixed random array, so a single backward checks all of them.  Keep r in mind: it is
# about to matter.

# %%
rng = np.random.default_rng(0)


def leaf(shape):
    """A float64 tensor of standard-normal values that requires grad."""
    return mt.Tensor(rng.standard_normal(shape), requires_grad=True)


A, B, C = leaf((3, 4)), leaf((3, 4)), leaf((3, 4))
assert mt.gradcheck(lambda A, B, C: (A * B + C).tanh(), [A, B, C], names=["A", "B", "C"])
print("gradcheck passes for tanh(A * B + C) on 3 x 4 tensors")

# %% [markdown]
# ### Writing an operation, and getting its backward wrong
#
# Every operation is a subclass of `mt.Function` with two static methods.  `forward(ctx, x)`
# works on plain NumPy arrays and stores in `ctx` whatever the derivative will need.
# `backward(ctx, grad_output)` receives the upstream gradient dL/dy and returns dL/dx, one array
# per input.
#
# Our operation is softplus, a smooth ReLU:
#
#     y = log(1 + e^x),    dy/dx = e^x / (1 + e^x) = sigmoid(x).
#
# First a version with the most common backward bug: it returns the local derivative
# sigmoid(x) but forgets to multiply it by the upstream gradient.

# %%
def sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + e^-x), without overflow for large |x|


class BuggySoftplus(mt.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), computed without overflow

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return sigmoid(x)  # BUG: the chain rule needs grad_output * sigmoid(x)


# %% [markdown]
# This bug hides from the easiest test.  If the loss is just `softplus(x).sum()`, the upstream
# gradient is exactly 1 everywhere, so multiplying by it or not gives the same answer:

# %%
xs = leaf(6)
BuggySoftplus.apply(xs).sum().backward()
assert np.allclose(xs.grad, sigmoid(xs.data))
print("with a plain .sum() on top, the buggy backward gives the right numbers")

# %% [markdown]
# gradcheck weights the outputs by the random r, so the upstream gradient is r, not 1, and the
# bug shows.  The error says which input and which element failed, what backward() gave, what
# finite differences gave, and by how much they differ:

# %%
try:
    mt.gradcheck(lambda t: BuggySoftplus.apply(t), [xs], names=["x"])
except mt.GradcheckError as error:  # the error we came for: the lesson goes on
    message = str(error)
    print("expected GradcheckError (BuggySoftplus is wrong on purpose):", message)
else:
    raise AssertionError("gradcheck should have caught the missing upstream gradient")
assert "x" in message and "element" in message

# %% [markdown]
# How to read it.  The message names the input (`x`, from `names=`) and the first element that
# disagrees.  "backward() gives" is what our backward returned there: sigmoid(x), because it
# ignored the upstream gradient.  "finite differences give" is the true derivative of
# sum(f * r) at that element: r * sigmoid(x).  The difference is far above the tolerance, so
# this is a bug, not rounding.  (A difference only just above the tolerance more often means
# the function has a kink near that element, like relu at 0, where finite differences straddle
# two slopes.)  After the fix, the check passes:

# %%
class Softplus(mt.Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * sigmoid(x)


assert mt.gradcheck(lambda t: Softplus.apply(t), [xs], names=["x"])
print("gradcheck passes for the fixed Softplus")

# %% [markdown]
# ## 5. An operation that learns
#
# A custom operation can have parameters of its own.  Swish (Ramachandran et al., 2017) is
# x * sigmoid(beta x), with a learnable sharpness beta for each hidden unit:
#
#     y = x s,   s = sigmoid(beta x)
#     dy/dx    = s + beta x s (1 - s)
#     dy/dbeta = x^2 s (1 - s)
#
# beta has shape (H,) but is used against a batch x of shape (N, H): the same beta[j] takes
# part in N products.  That is section 3 again, one tensor used many times, so its gradient is
# the sum over the N rows.  `backward` may return the gradient in the broadcast shape (N, H);
# the engine sums it back to beta's shape.

# %%
class Swish(mt.Function):
    """y = x * sigmoid(beta * x), beta broadcast over the batch."""

    @staticmethod
    def forward(ctx, x, beta):
        s = sigmoid(beta * x)
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, beta, s = ctx.saved_tensors
        slope = s * (1.0 - s)
        grad_x = grad_output * (s + beta * x * slope)
        grad_beta = grad_output * x * x * slope  # shape (N, H); the engine sums it over N
        return grad_x, grad_beta


assert mt.gradcheck(lambda x, beta: Swish.apply(x, beta), [leaf((5, 3)), leaf(3)], names=["x", "beta"])
print("gradcheck passes for Swish, for both x and beta")

# %% [markdown]
# Now we train it.  A tiny network, Linear(1, H), then Swish with learnable beta, then
# Linear(H, 1), is fitted to y = sin(2x) on [-3, 3] with Adam.  The optimizer updates beta like
# any other weight, because to the engine `Swish` is one more node with a backward.

# %%
class TinyNet(mt.nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.hidden_layer = mt.nn.Linear(1, hidden)
        self.beta = mt.nn.Parameter(np.ones(hidden, dtype=np.float32))
        self.output_layer = mt.nn.Linear(hidden, 1)

    def forward(self, x):
        return self.output_layer(Swish.apply(self.hidden_layer(x), self.beta))


mt.manual_seed(0)
net = TinyNet(hidden=16)
optimizer = mt.optim.Adam(net.parameters(), lr=0.01)
inputs = np.linspace(-3, 3, 64, dtype=np.float32).reshape(-1, 1)
targets = np.sin(2 * inputs)

steps = 800 if QUICK else 2000
losses = []
for step in range(steps):
    loss = ((net(inputs) - targets) ** 2).mean()
    optimizer.zero_grad()  # section 3: otherwise this step's gradient adds onto the last one's
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % (steps // 5) == 0 or step == steps - 1:
        print(f"step {step:5d}   mean squared error {loss.item():.5f}")

beta = net.beta.data
print(f"beta moved from 1.0 to values in [{beta.min():.2f}, {beta.max():.2f}]")
assert losses[-1] < losses[0] / 20, "the fit should cut the error at least twentyfold"
assert np.abs(beta - 1.0).max() > 0.05, "the gradient should have reached Swish's own parameter"

with mt.no_grad():  # no graph needed just to look at predictions
    predictions = net(inputs).data
for i in range(0, 64, 9):
    print(f"x = {inputs[i, 0]:+.2f}   sin(2x) = {targets[i, 0]:+.3f}   net = {predictions[i, 0]:+.3f}")

# %%
if plt is None:
    print('(install matplotlib for a figure of the fit: pip install -e ".[viz]")')
else:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(inputs[:, 0], targets[:, 0], "o", ms=3, label="target sin(2x)")
    left.plot(inputs[:, 0], predictions[:, 0], label="TinyNet with Swish")
    left.set_xlabel("x")
    left.legend(loc="lower left")
    right.semilogy(losses)
    right.set_xlabel("step")
    right.set_ylabel("mean squared error")
    fig.suptitle("A custom op with a learnable parameter, trained by the engine")
    save_figure(fig, "01_swish_fit.png")

# %% [markdown]
# ## Exercises
#
# Write the backward of two operations, as `Softplus.backward` above: given what forward saved
# and `grad_output` (dL/dy, the shape of y), return dL/d(input).  Each check runs your function
# as the backward of an `mt.Function`, compares it with the library's op on the same upstream
# gradient, and then runs gradcheck.  Solutions: `lessons/solutions/autograd.py`.
#
# 1. `tanh_backward(y, grad_output)`, where y = tanh(x) is the saved *output*: what section 2's
#    dL/dz line computes, for a whole array.
# 2. `matmul_backward(a, b, grad_output)` for y = a @ b with a (n, k) and b (k, m): return
#    (dL/da, dL/db), with the shapes of a and b (let the shapes tell you where the transposes go).

# %%
from exercises import report  # noqa: E402
from exercises import autograd as autograd_checks  # noqa: E402


def tanh_backward(y, grad_output):
    raise NotImplementedError  # your code


def matmul_backward(a, b, grad_output):
    raise NotImplementedError  # your code


report("tanh_backward", tanh_backward, autograd_checks.check_tanh_backward)
report("matmul_backward", matmul_backward, autograd_checks.check_matmul_backward)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/autograd.py`: `Function.apply` records a node; `no_grad`; `sum_to_shape`,
#   which undoes broadcasting.
# - `minitransformer/tensor.py`: `Tensor.backward` (one walk, `backward_steps`, which
#   `instruments/trace.py` also uses) sorts the graph (`_topological_order`) and sweeps it once,
#   summing the gradients of reused tensors.
# - `minitransformer/ops/`: every primitive (`Mul`, `Tanh`, `MatMul`, ...), one file per family,
#   each with its derivative in its docstring and its backward right under its forward.
# - `minitransformer/gradcheck.py`: the finite-difference check used above, and
#   `gradcheck_module`, which checks every parameter of a whole model.
# - `minitransformer/functional/`: softmax, layer norm, cross-entropy and attention.  In each
#   file read the plain reference first (e.g. `softmax_reference`: the equation in a few Tensor
#   primitives, as above), then the fused `Function` beside it, with a hand-derived backward,
#   the same pattern as `Softplus`.
#
# Next: lesson 2 turns text into tokens (byte-pair encoding); lesson 3 shows attention, the
# operation that makes a transformer.
