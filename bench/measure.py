"""Timing and memory helpers: run a command as a subprocess and sample its process tree."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_EVERY = 0.05  # seconds between RSS samples of the process tree


@dataclass
class Measured:
    cmd: list[str]
    rc: int
    wall: float  # seconds, process start to exit
    peak_tree_rss: int  # bytes: the largest summed RSS of the process and its descendants
    ru_maxrss: int  # bytes: the child's own peak RSS as the kernel reports it (wait4)
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def error(self) -> str:
        tail = (self.stderr or self.stdout).strip().splitlines()[-3:]
        return f"exit {self.rc}: " + " | ".join(tail)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_measured(
    cmd: list[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    sample: bool = True,
    timeout: float | None = None,
) -> Measured:
    """Run cmd; return its wall time, peak tree RSS (sampled) and ru_maxrss (from wait4).

    The wall time is taken the moment the process ends (a blocking ``wait4``); the tree's
    RSS is sampled every SAMPLE_EVERY seconds by a thread meanwhile. (Waiting in the
    sampling loop instead, as this did until session 4, rounded every wall time up to the
    next 50 ms sample: no matter for a build, but a fifth of a 0.2 s search command.)"""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        peak = [0]
        done = threading.Event()
        sampler = None
        if sample:
            ps = psutil.Process(proc.pid)

            def watch() -> None:
                while True:
                    peak[0] = max(peak[0], _tree_rss(ps))
                    if done.wait(SAMPLE_EVERY):
                        return

            sampler = threading.Thread(target=watch, daemon=True)
            sampler.start()
        killer = threading.Timer(timeout, proc.kill) if timeout else None
        if killer is not None:
            killer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        finally:
            done.set()
            if killer is not None:
                killer.cancel()
        if sampler is not None:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            cmd=cmd,
            rc=proc.returncode,
            wall=wall,
            peak_tree_rss=max(peak[0], usage.ru_maxrss * 1024),
            ru_maxrss=usage.ru_maxrss * 1024,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def run_quick(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall time of a short command (no sampling): (seconds, exit code, stderr tail)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    return wall, p.returncode, p.stderr.decode("utf-8", "replace").strip()[-300:]


def dir_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max of a list of run results."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}
