"""The browser reaper kills only what provably belongs to this instance and whose owner is gone.

Real Chromium; one instance runs in a nested pid namespace (`unshare -pf --mount-proc`, as a
container would), with pids that do not exist outside it. Every process is stopped by pid.
"""
import os
import subprocess
import sys
import textwrap
import uuid

import psutil
import pytest

from scraper.owner import OWNER_ENV, PROFILE_PREFIX, Owner, pid_namespace, reap_orphans
from scraper.sources.demo import DemoSource
from tests.conftest import ROOT, tagged_processes

pytestmark = pytest.mark.integration

FAST_SITE = DemoSource.default_url + "?latency=0"

# A pool in its own pid namespace, owned by a forked "worker" whose pid is `first_pid` + 1
# there: a pid that names no process outside, as a container's pids usually do not.
NAMESPACED_INSTANCE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    with open("/proc/sys/kernel/ns_last_pid", "w") as file:
        file.write(sys.argv[2])
    child = os.fork()
    if child:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    from scraper.pool import BrowserPool
    from scraper.sources.demo import DemoSource
    pool = BrowserPool(DemoSource({site!r}), size=1, page_timeout=30, instance=sys.argv[1])

    def search():
        with pool.browser(30) as driver:
            return pool.source.search(driver, "세종대로 110", 1, 10)["total"]

    print("ready", os.getpid(), search(), flush=True)
    sys.stdin.readline()
    print("again", search(), flush=True)
    pool.close()
""")

# An owner that leaves a real browser behind and exits: chromium started directly (not
# through the pool's launcher, which would make it die with its owner) in a session of its own.
ORPHAN_MAKER = textwrap.dedent("""
    import os, subprocess, sys, tempfile
    sys.path.insert(0, {root!r})
    from scraper.owner import OWNER_ENV, PROFILE_PREFIX, Owner
    marker = Owner.current(sys.argv[1], 1).marker()
    profile = tempfile.mkdtemp(prefix=PROFILE_PREFIX + marker + "-", dir=sys.argv[2])
    browser = subprocess.Popen(
        ["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", "--user-data-dir=" + profile, "about:blank"],
        env=dict(os.environ, **{{OWNER_ENV: marker, "HOME": profile}}), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(browser.pid, profile, flush=True)
""")


def free_pid_range(width=50):
    """A pid P such that P..P+width name no process in this namespace."""
    taken = set(psutil.pids())
    for start in range(20000, 32000, width):
        if not taken.intersection(range(start, start + width)):
            return start
    pytest.skip("no free range of pids")


def kill_all(processes):
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=5)


def marked(tag, instance):
    """Live processes of this test whose owner marker names `instance`."""
    found = []
    for process in tagged_processes(tag):
        try:
            owner = Owner.parse(process.environ().get(OWNER_ENV))
        except psutil.Error:
            continue
        if owner is not None and owner.instance == instance:
            found.append(process)
    return found


@pytest.fixture
def instance():
    return "test" + uuid.uuid4().hex[:12]      # never the instance of anything else on the machine


def test_reaping_never_touches_a_live_instance_in_another_pid_namespace(process_tag, instance, tmp_path):
    first_pid = free_pid_range()
    inner = subprocess.Popen(
        ["unshare", "-pf", "--mount-proc", sys.executable, "-c",
         NAMESPACED_INSTANCE.format(root=ROOT, site=FAST_SITE), instance, str(first_pid)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = inner.stdout.readline().split()
        assert ready[:1] == ["ready"] and ready[2] == "1", ready
        inner_pid = int(ready[1])
        browsers = marked(process_tag, instance)
        assert browsers, "the namespaced instance has no browser"
        owner = Owner.parse(browsers[0].environ()[OWNER_ENV])
        # The repro of the issue: the owner's pid means nothing out here.
        assert owner.pid == inner_pid and not psutil.pid_exists(inner_pid)
        assert owner.namespace != pid_namespace()

        assert reap_orphans(instance, temp_dir=str(tmp_path)) == 0
        assert all(process.is_running() for process in browsers)
        inner.stdin.write("\n")
        inner.stdin.flush()
        assert inner.stdout.readline().split() == ["again", "1"]
        assert inner.wait(30) == 0
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait(10)
        kill_all(marked(process_tag, instance))


def test_an_orphan_of_this_instance_is_reaped_and_nothing_else(process_tag, instance, tmp_path):
    made = subprocess.run([sys.executable, "-c", ORPHAN_MAKER.format(root=ROOT), instance, str(tmp_path)],
                          capture_output=True, text=True, timeout=30, check=True).stdout.split()
    orphan_pid, orphan_profile = int(made[0]), made[1]
    # Another instance's orphan on the same host, and a process whose marker names a live pid
    # with another start time (a reused pid): only the second is provably ours and ownerless.
    other = subprocess.run([sys.executable, "-c", ORPHAN_MAKER.format(root=ROOT), instance + "x",
                            str(tmp_path)], capture_output=True, text=True, timeout=30,
                           check=True).stdout.split()
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
        assert not os.path.exists(orphan_profile)
        sleepers["reused"].wait(5)         # killed (psutil may have reaped it: no exit code)
        assert sleepers["live"].poll() is None
        assert psutil.pid_exists(int(other[0])) and os.path.exists(other[1])
        assert [p.name() for p in marked(process_tag, instance) if p.pid != sleepers["live"].pid] == []
    finally:
        for sleeper in sleepers.values():
            sleeper.kill()
            sleeper.wait(5)
        kill_all(marked(process_tag, instance) + marked(process_tag, instance + "x"))


def test_a_profile_name_carries_its_owner(instance, tmp_path):
    me = Owner.current(instance, 7)
    assert Owner.parse(me.marker()) == me and not me.gone()
    assert Owner.parse("12345") is None and Owner.parse("a.b.c.d.e") is None
    leftover = tmp_path / f"{PROFILE_PREFIX}{Owner(instance, me.namespace, 1 << 30, 1, 1).marker()}-abc"
    leftover.mkdir()
    foreign = tmp_path / f"{PROFILE_PREFIX}{Owner(instance, me.namespace + 1, 1 << 30, 1, 1).marker()}-abc"
    foreign.mkdir()
    reap_orphans(instance, temp_dir=str(tmp_path))
    assert not leftover.exists() and foreign.exists()
