"""Who owns a browser, in a form that cannot be mistaken for another owner, and the reaper.

A browser's owner is a process named by its pid namespace, its pid and its start time (a pid
alone may be reused, or belong to another namespace), plus the service instance and the pool in
that process. Browsers carry it in their environment, and their directories in a file.
"""
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass

import psutil

log = logging.getLogger("searchaddr.pool")

OWNER_ENV = "SEARCHADDR_BROWSER_OWNER"
BROWSER_DIR_PREFIX = "searchaddr-chromium-"
# The marker is in a file, not in the name: the full Chromium's socket path under the
# directory must fit in 107 bytes.
OWNER_FILE = "owner"
# instance.namespace.pid.start_ticks.pool
MARKER = re.compile(r"([A-Za-z0-9_]{1,64})\.([0-9]{1,20})\.([0-9]{1,10})\.([0-9]{1,20})\.([0-9]{1,10})")


def pid_namespace(pid="self"):
    """The inode of a process's pid namespace (raises OSError when it is gone or not visible)."""
    return os.stat(f"/proc/{pid}/ns/pid").st_ino


def start_ticks(pid="self"):
    """(start time in clock ticks since boot, state letter) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as file:
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        fields = file.read().rpartition(b")")[2].split()
    return int(fields[19]), fields[0].decode()


@dataclass(frozen=True)
class Owner:
    instance: str       # the service instance (a hash of its config file's path)
    namespace: int      # the owner's pid namespace
    pid: int            # the owner's pid, in that namespace
    started: int        # the owner's start time in clock ticks: a reused pid has another
    pool: int           # the pool within that process

    @classmethod
    def current(cls, instance, pool):
        return cls(instance, pid_namespace(), os.getpid(), start_ticks()[0], pool)

    @classmethod
    def parse(cls, text):
        """The Owner a marker names, or None for anything else (an old or foreign marker)."""
        match = MARKER.fullmatch(text or "")
        if match is None:
            return None
        instance, namespace, pid, started, pool = match.groups()
        return cls(instance, int(namespace), int(pid), int(started), int(pool))

    def marker(self):
        return f"{self.instance}.{self.namespace}.{self.pid}.{self.started}.{self.pool}"

    def gone(self):
        """True only when provably gone: a process in our own namespace, whose pid is free or
        now names another process (another start time), or a zombie."""
        if self.namespace != pid_namespace():
            return False        # its pids mean nothing here
        try:
            started, state = start_ticks(self.pid)
        except (OSError, IndexError, ValueError):
            return True
        return started != self.started or state in ("Z", "X")


def reap_orphans(instance, temp_dir=None):
    """Kill browsers, and remove their directories, that this service `instance` left when a process of
    it died without quitting them (SIGKILL, harakiri). Only those whose owner is provably gone:
    never another instance's, nor one in another pid namespace. Returns the processes killed."""
    here = pid_namespace()
    killed = []
    for process in psutil.process_iter():
        try:
            owner = Owner.parse(process.environ().get(OWNER_ENV))
            if (owner is None or owner.instance != instance or owner.namespace != here
                    or pid_namespace(process.pid) != here or not owner.gone()):
                continue
            process.kill()
            killed.append(process)
        except (psutil.Error, OSError):
            continue
    wait_until_dead(killed)
    removed = 0
    for path, marker in browser_dirs(temp_dir):
        owner = Owner.parse(marker)
        if owner is not None and owner.instance == instance and owner.gone():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if killed or removed:
        log.warning("killed %d browser processes and removed %d browser directories left by dead workers",
                    len(killed), removed)
    return len(killed)


def kill_marked(marker):
    """Kill every process of this namespace whose owner marker is `marker`: a start that was
    under way when its pool closed. Returns how many."""
    here = pid_namespace()
    killed = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(OWNER_ENV) == marker and pid_namespace(process.pid) == here:
                process.kill()
                killed.append(process)
        except (psutil.Error, OSError):
            continue
    wait_until_dead(killed)
    return len(killed)


def wait_until_dead(processes, timeout=2.0):
    """Until each of `processes` (just killed) is gone or a zombie, at most `timeout` seconds. A
    zombie runs no more and writes no file; an orphan's stays until init reaps it, which may take
    a second (psutil.wait_procs waits for that)."""
    deadline = time.monotonic() + timeout
    while processes and time.monotonic() < deadline:
        time.sleep(0.01)
        processes = [process for process in processes if _running(process)]


def _running(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def make_browser_dir(marker, temp_dir=None):
    """A new directory for one browser's temporary files, marked as `marker`'s."""
    path = tempfile.mkdtemp(prefix=BROWSER_DIR_PREFIX, dir=temp_dir)
    with open(os.path.join(path, OWNER_FILE), "w", encoding="ascii") as file:
        file.write(marker)
    return path


def browser_dirs(temp_dir=None):
    """(path, owner marker) of each browser directory under `temp_dir`; the marker is None for
    one being made (no marker yet), which is never taken for anyone's."""
    try:
        entries = list(os.scandir(temp_dir or tempfile.gettempdir()))
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        if not entry.name.startswith(BROWSER_DIR_PREFIX):
            continue
        try:
            with open(os.path.join(entry.path, OWNER_FILE), encoding="ascii") as file:
                found.append((entry.path, file.read(200)))
        except (OSError, ValueError):
            found.append((entry.path, None))
    return found


def remove_browser_dirs(marker, temp_dir=None):
    """Remove the directories of browsers started with `marker`."""
    for path, found in browser_dirs(temp_dir):
        if found == marker:
            shutil.rmtree(path, ignore_errors=True)
