"""The README's table of tasks learned from demos (experiments/task_table.py): each cell read from the results
files by the target's rule, and the README's copy is the one the files make today."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("task_table", ROOT / "experiments" / "task_table.py")
task_table = sys.modules["task_table"] = importlib.util.module_from_spec(_spec)  # dataclasses look it up
_spec.loader.exec_module(task_table)


def run(label, seed, curve, steps_done=None, demos=10):
    return {"label": label, "seed": seed, "demos": demos, "steps_done": steps_done or curve[-1][0],
            "curve": [{"steps": s, "success": x, "wall_s": w} for s, x, w in curve]}


@pytest.fixture
def spec(tmp_path):
    results = tmp_path / "learn_door.json"
    results.write_text(json.dumps({"runs": [
        # seed 0 reaches 0.8 at 20k (after 0.75 at 10k) and dips after; seed 1 reaches it only past the budget
        run("cam", 0, [(10000, 0.75, 600), (20000, 0.8, 1200), (30000, 0.7, 1800)]),
        run("cam", 1, [(10000, 0.1, 610), (30000, 0.5, 1810), (40000, 0.95, 2400)]),
        run("oracle", 0, [(10000, 0.9, 100)], demos=10),
        run("other", 0, [(10000, 1.0, 50)]),
    ]}))
    return {"tasks": [
        {"task": "Door", "target": {"success": 0.8, "demos": 10, "steps": 30000, "seeds": 2},
         "camera": {"file": str(results), "label": "cam"}, "oracle": {"file": str(results), "label": "oracle"},
         "peers": "LaNE: 10 demos"},
        {"task": "Stack", "target": {"success": 0.8, "demos": 10, "steps": 150000, "seeds": 1},
         "camera": {"file": str(tmp_path / "absent.json"), "label": "cam"}},
    ]}


def test_each_cell_follows_the_target_rule_within_the_budget(spec):
    door, stack = (task_table.row(entry) for entry in spec["tasks"])
    assert door == ["Door", "0.8 in 30k, <= 10 demos, 2 seeds", "10", "1 of 2", "20k, -", "20, -", "0.70, 0.50",
                    "10k", "LaNE: 10 demos"]
    assert stack[0] == "Stack" and stack[1].endswith("1 seed") and stack[2] == task_table.NOT_RUN
    assert stack[-2] == task_table.NOT_RUN


def test_the_readme_gets_the_table_between_its_markers_and_a_file_without_them_is_one_line(spec, tmp_path,
                                                                                             capsys):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{task_table.BEGIN}\nold table\n{task_table.END}\nafter\n")
    assert task_table.main([str(spec_file), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old table" not in text and text.startswith("before\n") and text.endswith("after\n")
    assert task_table.markdown(spec) in text
    readme.write_text("no markers\n")
    assert task_table.main([str(spec_file), "--readme", str(readme)]) == 2
    assert readme.read_text() == "no markers\n"
    assert capsys.readouterr().err.count("\n") == 1


def test_the_readmes_table_is_what_the_results_files_make_today(monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = yaml.safe_load((ROOT / "configs/tables/tasks.yaml").read_text())
    readme = (ROOT / "README.md").read_text()
    assert task_table.markdown(spec) in readme, \
        "README's task table is stale: python experiments/task_table.py configs/tables/tasks.yaml --readme README.md"
