"""Processes that must not outlive the one that started them (`make run`'s worker, an
embedded beat): on Linux the kernel signals them when their parent dies
(prctl PR_SET_PDEATHSIG); elsewhere this does nothing and the callers' other checks
(the beat's parent check, run_embedded's process group) still hold."""

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _load_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded here, in the parent, so that a child between fork and exec only calls it.
_LIBC = _load_libc()


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `signum` to this process when its parent (the thread that
    started it) dies; True when it will. Safe in a child between fork and exec."""
    if _LIBC is None:
        return False
    try:
        return _LIBC.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except AttributeError:
        return False


def group_members(pgid: int) -> list[int]:
    """The running processes (zombies left out) of the process group `pgid`."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid pgrp ...: comm may hold spaces, so after ")".
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members
