"""What one searchaddr instance's processes hold in memory, by process kind and by browser.

Two figures per process, both in MiB:
  pss    /proc/PID/smaps_rollup "Pss": shared pages are divided among every process on the machine
         that maps them, so it drops when other Chromiums run here (the libraries' pages are shared
         with them). It is the usual PSS figure; on the user's box nothing else shares.
  alone  the same sum as if the instance ran alone: each resident page (found by its physical
         frame in /proc/PID/pagemap; needs root) is divided among the instance's own processes
         that map it. On a box running nothing else from the same files, pss == alone.
The total of `alone` is the instance's unique resident pages: what it costs a box of its own.
`alone_file` is the part of `alone` that maps files (the Chromium binary, libraries): clean pages
the kernel can drop and read again under pressure, shared by every browser of the instance.
"""
import contextlib
import os
import re
from collections import defaultdict

import numpy
import psutil

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 2 ** 20
PFN_MASK = (1 << 55) - 1
PRESENT = 1 << 63
FILE_PAGE = 1 << 61      # a page of the file itself (not a private copy of it, which is anonymous)
SMAPS_RANGE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) ")
KINDS = ("uwsgi master", "uwsgi worker", "chromedriver", "browser", "renderer", "gpu", "utility",
         "zygote", "crashpad", "other")


def rollup_pss_mb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def resident_frames(pid):
    """(frames, from_file): the physical frame number of every resident page `pid` maps, and
    whether it belongs to a file mapping (libraries, the Chromium binary) rather than anonymous
    memory (heaps, stacks, shared memory)."""
    ranges = []
    try:
        with open(f"/proc/{pid}/smaps", encoding="ascii", errors="replace") as smaps:
            start = end = None
            for line in smaps:
                match = SMAPS_RANGE.match(line)
                if match:
                    start, end = int(match.group(1), 16), int(match.group(2), 16)
                    fields = line.split(maxsplit=5)
                    name = fields[5].strip() if len(fields) > 5 else ""
                    from_file = (name.startswith("/") and not name.startswith(("/dev/", "/memfd:"))
                                 and not name.endswith("(deleted)"))
                elif line.startswith("Rss:") and start is not None and int(line.split()[1]) > 0:
                    ranges.append((start, end, from_file))
        frames, kinds = [], []
        with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
            for start, end, from_file in ranges:
                pagemap.seek(start // PAGE * 8)
                entries = numpy.frombuffer(pagemap.read((end - start) // PAGE * 8), dtype=numpy.uint64)
                present = entries[(entries & numpy.uint64(PRESENT)) != 0]
                frames.append(present & numpy.uint64(PFN_MASK))
                kinds.append(((present & numpy.uint64(FILE_PAGE)) != 0) & from_file)
    except OSError:
        frames = []
    if not frames:
        return numpy.zeros(0, dtype=numpy.uint64), numpy.zeros(0, dtype=bool)
    # A page mapped twice by one process counts once.
    found, first = numpy.unique(numpy.concatenate(frames), return_index=True)
    if found.size and not found.any():
        raise PermissionError("pagemap shows no frame numbers: run as root (CAP_SYS_ADMIN)")
    return found, numpy.concatenate(kinds)[first]


def alone_mb(pids):
    """{pid: (MiB, MiB of it from files)}: each resident page divided among the given processes
    that map it."""
    frames = {pid: resident_frames(pid) for pid in pids}
    if not frames:
        return {}
    every = numpy.concatenate([f for f, _ in frames.values()])
    _, inverse, counts = numpy.unique(every, return_inverse=True, return_counts=True)
    shares = 1.0 / counts[inverse]
    result, offset = {}, 0
    for pid, (own, from_file) in frames.items():
        mine = shares[offset:offset + own.size]
        result[pid] = (float(mine.sum()) * PAGE / MIB, float(mine[from_file].sum()) * PAGE / MIB)
        offset += own.size
    return result


def kind_of(process, uwsgi_master_pid=None):
    """One of KINDS, from the process's name and Chromium's --type switch."""
    try:
        name = process.name()
        cmdline = process.cmdline()
    except psutil.Error:
        return "other"
    if name.startswith("uwsgi"):
        return "uwsgi master" if process.pid == uwsgi_master_pid else "uwsgi worker"
    if name == "chromedriver":
        return "chromedriver"
    if "crashpad" in name or (cmdline and "crashpad_handler" in cmdline[0]):
        return "crashpad"
    kind = next((arg.split("=", 1)[1] for arg in cmdline if arg.startswith("--type=")), None)
    if kind is None:
        return "browser" if "chrom" in name or "chrom" in " ".join(cmdline[:1]) else "other"
    return {"gpu-process": "gpu"}.get(kind, kind if kind in KINDS else "other")


def snapshot(processes, uwsgi_master_pid=None):
    """Memory of an instance: totals, per kind, per browser (a chromedriver and its descendants).

    {"total_pss", "total_alone", "kinds": {kind: {"count", "pss", "alone"}}, "browsers": [{"pss",
    "alone", "alone_file", "processes"}], "processes": [{"pid", "kind", "pss", "alone"}]}
    """
    processes = [p for p in processes if _alive(p)]
    pids = [p.pid for p in processes]
    alone = alone_mb(pids)
    rows = [{"pid": p.pid, "kind": kind_of(p, uwsgi_master_pid), "pss": rollup_pss_mb(p.pid),
             "alone": alone.get(p.pid, (0.0, 0.0))[0], "alone_file": alone.get(p.pid, (0.0, 0.0))[1]}
            for p in processes]
    by_pid = {row["pid"]: row for row in rows}
    kinds = defaultdict(lambda: {"count": 0, "pss": 0.0, "alone": 0.0, "alone_file": 0.0})
    for row in rows:
        kinds[row["kind"]]["count"] += 1
        for key in ("pss", "alone", "alone_file"):
            kinds[row["kind"]][key] += row[key]
    browsers = []
    for process in processes:
        if by_pid[process.pid]["kind"] != "chromedriver":
            continue
        with contextlib.suppress(psutil.Error):
            tree = [process.pid] + [child.pid for child in process.children(recursive=True)
                                    if child.pid in by_pid]
            # Crashpad handlers are re-parented to init by Chromium: they belong to no tree here.
            browsers.append({"driver": process.pid, "pss": sum(by_pid[pid]["pss"] for pid in tree),
                             "alone": sum(by_pid[pid]["alone"] for pid in tree),
                             "alone_file": sum(by_pid[pid]["alone_file"] for pid in tree),
                             "processes": len(tree)})
    # Crashpad handlers leave their browser's tree (they re-parent to init): each browser gets a share.
    crashpad = kinds.get("crashpad", {"pss": 0.0, "alone": 0.0, "alone_file": 0.0})
    for browser in browsers:
        for key in ("pss", "alone", "alone_file"):
            browser[key] += crashpad[key] / len(browsers)
    return {"total_pss": sum(row["pss"] for row in rows),
            "total_alone": sum(row["alone"] for row in rows),
            "total_alone_file": sum(row["alone_file"] for row in rows),
            "kinds": {kind: dict(value) for kind, value in sorted(kinds.items())},
            "browsers": browsers, "processes": rows}


def _alive(process):
    with contextlib.suppress(psutil.Error):
        return process.status() != psutil.STATUS_ZOMBIE
    return False
