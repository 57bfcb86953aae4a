"""`plot`: a PNG through matplotlib when it is there, a text chart when it is not; log reading."""

from __future__ import annotations

import builtins
import json
import sys
import types

import pytest

from minitransformer.commands import main
from minitransformer.plotting import read_log, text_chart


def write_run(folder, val=(5.0, 4.0, 4.5)):
    folder.mkdir(parents=True, exist_ok=True)
    records = [{"step": s, "train_loss": 6.0 - s / 10, "lr": 1e-3 * s, "grad_norm": 1.0} for s in (5, 10, 15, 20, 25, 30)]
    records += [{"step": 10 * (i + 1), "val_loss": v} for i, v in enumerate(val)]
    text = "".join(json.dumps(r) + "\n" for r in records) + '{"step": 35, "train_lo'  # a line torn by a kill
    (folder / "log.jsonl").write_text(text, encoding="utf-8")
    return folder


def test_read_log_keeps_the_curves_and_skips_a_torn_line(tmp_path):
    curves = read_log(write_run(tmp_path / "run"))
    assert [s for s, _ in curves["train"]] == [5, 10, 15, 20, 25, 30]
    assert curves["val"] == [(10, 5.0), (20, 4.0), (30, 4.5)]
    assert curves["lr"][-1] == (30, pytest.approx(0.03))


def test_read_log_of_a_folder_without_a_log_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no log.jsonl"):
        read_log(tmp_path)


def hide_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    for name in [n for n in sys.modules if n.split(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)


def test_without_matplotlib_plot_draws_a_text_chart_and_says_what_to_install(tmp_path, monkeypatch, capsys):
    hide_matplotlib(monkeypatch)
    run = write_run(tmp_path / "small", val=(5.0, 4.0, 4.5))
    other = write_run(tmp_path / "big", val=(5.5, 5.2, 5.0))
    assert main(["plot", str(run), str(other)]) == 0
    out = capsys.readouterr().out
    assert "pip install matplotlib" in out
    assert "loss: a = small train, A = small val, b = big train, B = big val" in out
    rows = [line for line in out.splitlines() if " |" in line]
    assert len(rows) == 16 and float(rows[0].split("|")[0]) == pytest.approx(5.5)  # highest loss on top
    assert float(rows[-1].split("|")[0]) == pytest.approx(3.0)
    assert not (run / "loss.png").exists()


def test_text_chart_puts_each_point_in_its_column_and_row(tmp_path):
    chart = text_chart([write_run(tmp_path / "r")], width=26, height=11).splitlines()
    grid = [line.split("|", 1)[1] for line in chart[:11]]
    assert grid[0][0] == "a"        # step 5, train 5.5 = the top
    assert grid[10][25] == "a"      # step 30, train 3.0 = the bottom, last column
    assert grid[2][5] == "A"        # step 10, val 5.0: (5.5 - 5.0) / 2.5 * 10 = row 2


class FakeAxes:
    def __init__(self):
        self.lines = []

    def plot(self, x, y, *style, label=None):
        self.lines.append((label, list(x), list(y)))

    def __getattr__(self, name):  # set_ylabel, legend, grid, ...
        return lambda *args, **kwargs: None


def fake_matplotlib(monkeypatch):
    axes = (FakeAxes(), FakeAxes())

    class Figure:
        def tight_layout(self):
            pass

        def savefig(self, file, format, dpi):
            file.write(b"\x89PNG fake")

    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.subplots = lambda *args, **kwargs: (Figure(), axes)
    pyplot.close = lambda figure: None
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.use = lambda backend: None
    matplotlib.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    return axes


def test_with_matplotlib_plot_writes_a_png_of_train_val_and_lr(tmp_path, monkeypatch, capsys):
    losses, rates = fake_matplotlib(monkeypatch)
    run = write_run(tmp_path / "run")
    assert main(["plot", str(run)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run / 'loss.png'}"
    assert (run / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert [label for label, _, _ in losses.lines] == ["run train", "run val"]
    assert list(losses.lines[1][1:]) == [[10, 20, 30], [5.0, 4.0, 4.5]]
    assert rates.lines[0][1] == [5, 10, 15, 20, 25, 30]


def test_plot_of_a_folder_without_a_log_is_one_error_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path} holds no log.jsonl; give a run folder written by `pretrain`"
