"""The repository, for scripts run as `python3 bench/NAME.py` (which puts only bench/ on the path):
the service's modules from its root, and the demo site's generator, whose modules import each
other by bare name. Import this (or harness, which does) before any of them."""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO / "demo_site", REPO):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
