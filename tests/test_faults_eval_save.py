"""experiments/faults_eval.py writes one file for runs evaluated by separate processes: other runs are kept, while
the file's own fields (provenance above all) are the newest report's, with nothing stale beside them."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("faults_eval", ROOT / "experiments" / "faults_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_save_keeps_other_runs_and_no_stale_field(tmp_path):
    out = tmp_path / "faults.json"
    out.write_text(json.dumps({"runs": {"fix": {"conditions": {}}}, "provenance": "unknown",
                               "provenance_partial": {"note": "measured before provenance existed"}}))
    report = {"provenance": {"commit": "abc"}, "episodes": 5, "runs": {"wsa": {"conditions": {"intact": {}}}}}
    load_script().save(out, report, "wsa", 12.34)
    saved = json.loads(out.read_text())
    assert set(saved["runs"]) == {"fix", "wsa"} and saved["runs"]["wsa"]["wall_s"] == 12.3
    assert saved["provenance"] == {"commit": "abc"} and saved["episodes"] == 5
    assert "provenance_partial" not in saved
