"""One read buffer per thread for the SDK's asyncio protocols.

A plain ``asyncio.Protocol`` makes the selector loop call ``sock.recv(256 KiB)``
for every read: CPython allocates that much for each answer of a few hundred
bytes, which glibc serves with mmap, mremap and munmap (about 20 us a read
here, four times the recv itself). A ``BufferedProtocol`` is read into a
buffer it hands out instead. The bytes are copied out in ``buffer_updated``,
which the loop calls right after filling the buffer, before any other read
on that thread, so every connection of a thread can share one buffer.
"""

from __future__ import annotations

import threading

__all__ = ["read_buffer"]

_SIZE = 64 * 1024
_local = threading.local()


def read_buffer() -> memoryview:
    """This thread's read buffer (64 KiB)."""
    try:
        view: memoryview = _local.view
    except AttributeError:
        view = _local.view = memoryview(bytearray(_SIZE))
    return view
