"""The browser reaper kills only what provably belongs to this instance and whose owner is gone.

Real Chromium; one instance runs in a nested pid namespace (`unshare -pf --mount-proc`, as a
container would), with pids that do not exist outside it. Every process is stopped by pid.
"""
import os
import subprocess
import uuid

import psutil
import pytest

from scraper.owner import OWNER_ENV, Owner, browser_dirs, make_browser_dir, pid_namespace, reap_orphans
from tests.support.browsers import FAST_SITE
from tests.support.processes import (free_pid_range, kill_processes, leave_orphan_browser, namespaced_pool,
                                     owned_by, tagged_processes)

pytestmark = pytest.mark.integration


def marked(tag, instance):
    """Live processes of this test whose owner marker names `instance`."""
    return owned_by(instance, tagged_processes(tag))


@pytest.fixture
def instance():
    return "test" + uuid.uuid4().hex[:12]      # never the instance of anything else on the machine


def test_reaping_never_touches_a_live_instance_in_another_pid_namespace(process_tag, instance, tmp_path):
    first_pid = free_pid_range()
    if first_pid is None:
        pytest.skip("no free range of pids")
    try:
        with namespaced_pool(instance, first_pid, site=FAST_SITE) as inner:
            ready = inner.stdout.readline().split()
            assert ready[:1] == ["ready"] and ready[2] == "1", ready
            inner_pid = int(ready[1])
            browsers = marked(process_tag, instance)
            assert browsers, "the namespaced instance has no browser"
            owner = Owner.parse(browsers[0].environ()[OWNER_ENV])
            # The case to guard against: the owner's pid means nothing out here.
            assert owner.pid == inner_pid and not psutil.pid_exists(inner_pid)
            assert owner.namespace != pid_namespace()

            assert reap_orphans(instance, temp_dir=str(tmp_path)) == 0
            assert all(process.is_running() for process in browsers)
            inner.stdin.write("\n")
            inner.stdin.flush()
            assert inner.stdout.readline().split() == ["again", "1"]
            assert inner.wait(30) == 0
    finally:
        kill_processes(marked(process_tag, instance))


def test_an_orphan_of_this_instance_is_reaped_and_nothing_else(process_tag, instance, tmp_path):
    orphan_pid, orphan_dir = leave_orphan_browser(instance, tmp_path)
    # Another instance's orphan on the same host, and a process whose marker names a live pid
    # with another start time (a reused pid): only the second is provably ours and ownerless.
    other_pid, other_dir = leave_orphan_browser(instance + "x", tmp_path)
    me = Owner.current(instance, 1)
    reused = Owner(instance, me.namespace, me.pid, me.started + 1, 1)
    live = Owner(instance, me.namespace, me.pid, me.started, 2)
    sleepers = {name: subprocess.Popen(["sleep", "60"], env=dict(os.environ, **{OWNER_ENV: owner.marker()}))
                for name, owner in (("reused", reused), ("live", live))}
    try:
        psutil.wait_procs([psutil.Process(orphan_pid)], timeout=2)      # let chromium get going
        tree = [psutil.Process(orphan_pid)] + psutil.Process(orphan_pid).children(recursive=True)
        assert reap_orphans(instance, temp_dir=str(tmp_path)) >= 2
        psutil.wait_procs(tree, timeout=5)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)
        assert not os.path.exists(orphan_dir)
        sleepers["reused"].wait(5)         # killed (psutil may have reaped it: no exit code)
        assert sleepers["live"].poll() is None
        assert psutil.pid_exists(other_pid) and os.path.exists(other_dir)
        assert [p.name() for p in marked(process_tag, instance) if p.pid != sleepers["live"].pid] == []
    finally:
        for sleeper in sleepers.values():
            sleeper.kill()
            sleeper.wait(5)
        kill_processes(marked(process_tag, instance) + marked(process_tag, instance + "x"))


def test_a_browser_directory_carries_its_owner(instance, tmp_path):
    me = Owner.current(instance, 7)
    assert Owner.parse(me.marker()) == me and not me.gone()
    assert Owner.parse("12345") is None and Owner.parse("a.b.c.d.e") is None
    leftover = make_browser_dir(Owner(instance, me.namespace, 1 << 30, 1, 1).marker(), tmp_path)
    foreign = make_browser_dir(Owner(instance, me.namespace + 1, 1 << 30, 1, 1).marker(), tmp_path)
    mine = make_browser_dir(me.marker(), tmp_path)
    # One being made has no marker yet: nobody's, never removed.
    being_made = make_browser_dir("", tmp_path)
    os.remove(os.path.join(being_made, "owner"))
    assert dict(browser_dirs(tmp_path))[being_made] is None
    reap_orphans(instance, temp_dir=str(tmp_path))
    assert not os.path.exists(leftover)
    assert all(os.path.exists(path) for path in (foreign, mine, being_made))
    # The name stays short whatever the marker: the full Chromium's socket under it must fit.
    assert len(os.path.basename(leftover)) < 30
