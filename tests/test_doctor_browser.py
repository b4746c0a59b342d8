"""`cli.py doctor` on the configured browser binary: the headless shell by default, the full
chromium when configured, and the headless shell's wrapper script refused. Runs the real
binaries' --version (and, for the default, one real browser on the demo site)."""
import pytest

import cli
from scraper.browser import CHROMIUM
from tests.support.browsers import FAST_SITE
from tests.support.config import write_config

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("chromium", [CHROMIUM, "/usr/bin/chromium"], ids=["headless-shell", "chromium"])
def test_doctor_checks_the_configured_binary_and_its_version(tmp_path, capsys, chromium, process_tag):
    config = write_config(tmp_path / "searchaddr.ini", scraper={"chromium": chromium, "url": FAST_SITE})
    assert cli.doctor(config)
    out = capsys.readouterr().out
    assert f"ok   chromium at {chromium}: Chromium 1" in out, out
    assert "ok   versions match: chromium " in out and "demo page renders" in out, out


def test_doctor_refuses_the_headless_shells_wrapper_script(tmp_path, capsys):
    wrapper = "/usr/bin/chromium-headless-shell"
    with open(wrapper, "rb") as file:
        assert file.read(2) == b"#!"        # Debian's: a shell script that does not exec
    config = write_config(tmp_path / "searchaddr.ini", scraper={"chromium": wrapper, "url": FAST_SITE})
    assert not cli.doctor(config)
    assert f"FAIL chromium at {wrapper} is a script" in capsys.readouterr().out
