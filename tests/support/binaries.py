"""Binaries that scripts/setup.sh installs and some tests need. Such a test fails, never skips,
when one is missing: a run without it has not tested what it says it tested."""
import shutil

import pytest


def need(binary, install):
    """Fail the calling test (or fixture) unless `binary`, a name on PATH or a path, can be run;
    `install` says how to get it."""
    if shutil.which(binary) is None:
        pytest.fail(f"this test needs {binary}: {install}", pytrace=False)
