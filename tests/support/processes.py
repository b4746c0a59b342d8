"""The processes tests and benchmarks start, found and stopped by PID: one way to stop one, to
find those that carry a tag in their environment, and to kill what is left of a tag; and the
small things around them (a free port, waiting for a condition, the end of a log). Also the two
owners the browser reaper is tried on: a pool in a pid namespace of its own, and an owner that
leaves an orphan browser behind.

Benchmarks import this too (bench/harness.py, bench/faults.py): it needs nothing but the standard
library, psutil and scraper.owner (which needs no more).
"""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from scraper.owner import OWNER_ENV, Owner

ROOT = str(Path(__file__).resolve().parents[2])

# Everything a test run starts inherits TAG_ENV=<tag>; benchmarks use their own variable.
TAG_ENV = "SEARCHADDR_TEST_TAG"
# What Chromium's processes are called: the headless shell's, and the full browser's.
CHROMIUM_NAMES = ("chromium-headless-shell", "chromium")


def grid_command(jar, temp_dir, *arguments):
    """The command of a Selenium Grid from `jar`, its Java's temporary files in `temp_dir` (Java
    ignores TMPDIR) and no /tmp/hsperfdata_<user> of its performance counters."""
    return ["java", "-XX:-UsePerfData", f"-Djava.io.tmpdir={temp_dir}", "-jar", jar, *arguments]


def free_ports(count):
    """`count` different TCP ports on 127.0.0.1 that nothing listens on now."""
    with contextlib.ExitStack() as probes:
        ports = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
        return ports


def free_port():
    return free_ports(1)[0]


def wait_until(check, timeout, what=None, interval=0.1):
    """check()'s first true value within `timeout` seconds. Past that: TimeoutError naming `what`,
    or, without `what`, check()'s last (false) value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if not value and what:
        raise TimeoutError(f"{what} not ready within {timeout} s")
    return value


def tail(path, lines=40):
    """The last lines of a log file, for an error message."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process, sig=signal.SIGTERM, timeout=15):
    """Signal a process we started (a Popen, or None), wait, then SIGKILL it.

    Returns the seconds it took to exit after the signal: 0.0 if it was not running, `timeout`
    or more if it had to be killed.
    """
    if process is None or process.poll() is not None:
        return 0.0
    started = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    return time.monotonic() - started


def catches(pid, signum):
    """True once the process has a handler of its own for `signum` (/proc/PID/status SigCgt)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except OSError:
        pass
    return False


def tagged_processes(tag, env=TAG_ENV, names=None, descendants=False, zombies=False):
    """Live processes, never this one, whose environment carries env=tag; only those called one
    of `names` if given. Processes inside containers count too: the host sees them in /proc.

    descendants: their descendants as well. Chromium's zygote and renderers overwrite their
    environment with their process title, so only this finds them.
    zombies: also the zombie children of those (a zombie's environment is gone), that is
    children nobody reaps.
    """
    me = os.getpid()
    everyone = [p for p in psutil.process_iter(["pid", "name", "ppid", "status"]) if p.pid != me]
    ours = set()
    for process in everyone:
        with contextlib.suppress(psutil.Error):
            if process.info["status"] != psutil.STATUS_ZOMBIE and process.environ().get(env) == tag:
                ours.add(process.pid)
    if descendants:
        children = {}
        for process in everyone:
            children.setdefault(process.info["ppid"], []).append(process.pid)
        pending = list(ours)
        while pending:
            for child in children.get(pending.pop(), ()):
                if child not in ours:
                    ours.add(child)
                    pending.append(child)

    def counted(process):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            return zombies and process.info["ppid"] in ours
        return process.pid in ours
    return [p for p in everyone if counted(p) and (names is None or p.info["name"] in names)]


def wait_for_no_processes(tag, names=None, timeout=10.0, env=TAG_ENV, descendants=False):
    """[] once no live process carries the tag (none of `names`, if given); else what is left
    after `timeout` seconds."""
    wait_until(lambda: not tagged_processes(tag, env, names, descendants), timeout, interval=0.2)
    return tagged_processes(tag, env, names, descendants)


def kill_tagged(tag, grace=2.0, env=TAG_ENV, descendants=False):
    """Last resort in finally blocks: SIGKILL, by PID, what still carries the tag after `grace`
    seconds. Returns 'name:pid' of each one killed: one that exits by itself in time is not."""
    left = wait_for_no_processes(tag, timeout=grace, env=env, descendants=descendants)
    kill_processes(left)
    return [f"{process.info['name']}:{process.pid}" for process in left]


def kill_processes(processes):
    """SIGKILL each of `processes` (psutil.Process) by PID; waits up to 5 s for them to go."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=5)


def kill_tree(pid):
    """SIGKILL a process and all its descendants at once (a stopped one too); waits up to 5 s
    for them to go. Returns how many there were."""
    try:
        root = psutil.Process(pid)
        tree = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0
    kill_processes(tree)
    return len(tree)


def browser_files(directory):
    """What a browser may leave in a temp dir: the service's browser directories, chromedriver's
    profiles and Chromium's own directories."""
    return sorted(entry.name for entry in os.scandir(directory)
                  if entry.name.startswith(("searchaddr-chromium-", "org.chromium.", ".org.chromium.")))


def owned_by(instance, processes):
    """Those of `processes` whose owner marker (scraper.owner) names the service `instance`."""
    found = []
    for process in processes:
        try:
            owner = Owner.parse(process.environ().get(OWNER_ENV))
        except psutil.Error:
            continue
        if owner is not None and owner.instance == instance:
            found.append(process)
    return found


def free_pid_range(width=50):
    """A pid P such that P..P+width name no process in this namespace, or None."""
    taken = set(psutil.pids())
    for start in range(20000, 32000, width):
        if not taken.intersection(range(start, start + width)):
            return start
    return None


# A pool in its own pid namespace, owned by a forked "worker" whose pid is argv[2] + 1 there.
# Run with `-c` from the repo root, which puts the repo's modules on its path.
NAMESPACED_POOL = textwrap.dedent("""
    import os, sys
    with open("/proc/sys/kernel/ns_last_pid", "w") as file:
        file.write(sys.argv[2])
    child = os.fork()
    if child:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    from scraper.pool import BrowserPool
    from scraper.sources.demo import DemoSource
    pool = BrowserPool(DemoSource({site!r}), size={size}, page_timeout={page_timeout}, warm={warm},
                       instance=sys.argv[1])
    pool.warm()

    def search():
        with pool.browser({page_timeout}) as driver:
            return pool.source.search(driver, "세종대로 110", 1, 10)["total"]

    print("ready", os.getpid(), search(), flush=True)
    sys.stdin.readline()
    print("again", search(), flush=True)
    pool.close()
""")


@contextlib.contextmanager
def namespaced_pool(instance, first_pid, site=None, size=1, page_timeout=30, warm=0):
    """A BrowserPool of the service `instance` in a pid namespace of its own (`unshare -pf
    --mount-proc`, as a container would run it), owned by a worker whose pid is first_pid + 1
    there: take first_pid from free_pid_range(), so that pid names no process out here.

    Yields the Popen (text pipes). It prints `ready <worker pid> <total of a search>`; after a
    line on its stdin, `again <total of a search>`; then it closes its pool and exits. Killed at
    the end if it has not.
    """
    inner = subprocess.Popen(
        ["unshare", "-pf", "--mount-proc", sys.executable, "-c",
         NAMESPACED_POOL.format(site=site, size=size, page_timeout=page_timeout, warm=warm),
         instance, str(first_pid)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield inner
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait(10)


# An owner that leaves a real browser behind and exits: the headless shell started directly
# (not through the pool's launcher, which would make it die with its owner) in a session of its
# own, its files in a browser directory of its owner. Run with `-c` from the repo root.
ORPHAN_MAKER = textwrap.dedent("""
    import os, subprocess, sys
    from scraper.browser import CHROMIUM
    from scraper.owner import OWNER_ENV, Owner, make_browser_dir
    marker = Owner.current(sys.argv[1], 1).marker()
    directory = make_browser_dir(marker, sys.argv[2])
    browser = subprocess.Popen(
        [CHROMIUM, "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--user-data-dir=" + os.path.join(directory, "profile"), "about:blank"],
        env=dict(os.environ, **{OWNER_ENV: marker, "HOME": directory, "TMPDIR": directory}),
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(browser.pid, directory, flush=True)
""")


def leave_orphan_browser(instance, temp_dir):
    """A real browser whose owner, a process of the service `instance`, has exited without
    quitting it; its directory under `temp_dir`. Returns (the browser's pid, its directory)."""
    made = subprocess.run([sys.executable, "-c", ORPHAN_MAKER, instance, str(temp_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=True).stdout.split()
    return int(made[0]), made[1]
