"""The processes tests and benchmarks start, found and stopped by PID: one way to stop one, to
find those that carry a tag in their environment, and to kill what is left of a tag; and the
small things around them (a free port, waiting for a condition, the end of a log).

Benchmarks import this too (bench/harness.py): it needs nothing but the standard library and psutil.
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

# Everything a test run starts inherits TAG_ENV=<tag>; benchmarks use their own variable.
TAG_ENV = "SEARCHADDR_TEST_TAG"


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
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(left, timeout=5)
    return [f"{process.info['name']}:{process.pid}" for process in left]


def kill_tree(pid):
    """SIGKILL a process and all its descendants at once (a stopped one too); waits up to 5 s
    for them to go. Returns how many there were."""
    try:
        root = psutil.Process(pid)
        tree = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0
    for process in tree:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(tree, timeout=5)
    return len(tree)
