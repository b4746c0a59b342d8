"""Counts from the reliability runs, written to tests/artifacts/reliability-<name>.json."""
import json
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def record_counts(name, counts):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"reliability-{name}.json"
    path.write_text(json.dumps(counts, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return path
