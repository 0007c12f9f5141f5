"""Where NBX frames come from and go: a raw socket on an interface, or a pcap file.

The live path is an ``AF_PACKET`` socket bound to ethertype 0x8868 with the BPF program of
:mod:`.bpf` attached before it is bound (so no unfiltered frame is ever queued), a large
receive buffer, and reads through the event loop (``add_reader``), never a thread. The
kernel counts what it had to drop (``PACKET_STATISTICS``). pcaps are read and written
through scapy's raw readers in a worker thread (file I/O stays off the event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..core.errors import ConnectionClosed, ConnectionFailed
from .bpf import attach, nbx_program
from .frames import ETHERTYPE

SOL_PACKET: Final = 263
PACKET_ADD_MEMBERSHIP: Final = 1
PACKET_MR_PROMISC: Final = 1
PACKET_STATISTICS: Final = 6
SO_RCVBUFFORCE: Final = 33
#: Receive buffer asked for: seconds of signalling from a large NBX, should the loop stall.
RECEIVE_BUFFER: Final = 8 << 20
#: Frames received and not yet taken, at most (the oldest go, counted, beyond it).
MAX_QUEUED: Final = 20_000
MAX_FRAME: Final = 0x10000
#: pcap link type of Ethernet.
LINKTYPE_ETHERNET: Final = 1


class RawSocketNotPermitted(ConnectionFailed):
    """Raw sockets are not permitted to this process (it needs CAP_NET_RAW)."""


@dataclass(slots=True)
class CaptureStatistics:
    """What the kernel and this process dropped, and what arrived."""

    received: int = 0
    #: Dropped by the kernel because the socket's buffer was full.
    kernel_dropped: int = 0
    #: Dropped here because nobody took frames fast enough.
    queue_dropped: int = 0


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """A frame and when it arrived (seconds since the epoch)."""

    timestamp: float
    data: bytes


def open_raw_socket(
    interface: str, *, voice_sample_rate: int | None = None, promiscuous: bool = False
) -> socket.socket:
    """A non-blocking AF_PACKET socket for NBX frames on ``interface``, filtered."""
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
    except PermissionError as err:
        raise RawSocketNotPermitted(
            "raw sockets are not permitted: the monitor needs CAP_NET_RAW (run as root, "
            "or grant it, e.g. setcap cap_net_raw+ep on the Python binary, or "
            "--cap-add NET_RAW for a container)"
        ) from err
    try:
        attach(sock, nbx_program(voice_sample_rate=voice_sample_rate))  # before bind
        sock.bind((interface, ETHERTYPE))
        _flush(sock)  # anything queued between socket() and the filter
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
        except PermissionError:  # capped by net.core.rmem_max without CAP_NET_ADMIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        if promiscuous:
            index = socket.if_nametoindex(interface)
            membership = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, membership)
    except OSError as err:
        sock.close()
        if err.errno in (errno.ENODEV, errno.ENXIO):
            raise ConnectionFailed(f"there is no network interface {interface!r}") from err
        raise ConnectionFailed(f"cannot capture on {interface}: {err}") from err
    return sock


def open_send_socket(interface: str) -> socket.socket:
    """A non-blocking AF_PACKET socket that sends whole frames on ``interface``."""
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError as err:
        raise RawSocketNotPermitted("sending raw frames needs CAP_NET_RAW") from err
    try:
        sock.bind((interface, 0))
    except OSError as err:
        sock.close()
        raise ConnectionFailed(f"cannot send on {interface}: {err}") from err
    sock.setblocking(False)
    return sock


def _flush(sock: socket.socket) -> None:
    sock.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:
            sock.recv(MAX_FRAME)


def kernel_statistics(sock: socket.socket) -> tuple[int, int]:
    """(packets, drops) since the last call (reading resets the kernel's counters)."""
    packets, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    return packets, drops


class LiveCapture:
    """Frames from a raw socket, read through the event loop."""

    def __init__(self, sock: socket.socket, description: str) -> None:
        self._sock = sock
        self.description = description
        self.statistics = CaptureStatistics()
        self._frames: deque[CapturedFrame] = deque()
        self._arrived = asyncio.Event()
        self._error: BaseException | None = None
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        frames = self._frames
        now = time.time()
        try:
            while True:
                data = self._sock.recv(MAX_FRAME)
                frames.append(CapturedFrame(now, data))
                self.statistics.received += 1
        except BlockingIOError:
            pass
        except OSError as err:  # the interface went away
            self._error = ConnectionClosed(f"{self.description}: {err}")
            self._loop.remove_reader(self._sock.fileno())
        overflow = len(frames) - MAX_QUEUED
        for _ in range(max(overflow, 0)):
            frames.popleft()
        if overflow > 0:
            self.statistics.queue_dropped += overflow
        self._arrived.set()

    def update_statistics(self) -> CaptureStatistics:
        """Add the kernel's drop counter to the statistics and return them."""
        with contextlib.suppress(OSError):
            _, drops = kernel_statistics(self._sock)
            self.statistics.kernel_dropped += drops
        return self.statistics

    async def receive(self) -> list[CapturedFrame]:
        """Every frame that arrived since the last call (waits for at least one)."""
        while not self._frames:
            if self._error is not None:
                raise self._error
            self._arrived.clear()
            await self._arrived.wait()
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def close(self) -> None:
        """Stop reading and close the socket."""
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
        self._error = self._error or ConnectionClosed(f"{self.description}: closed")
        self._arrived.set()


def read_pcap(path: str | Path) -> Iterator[CapturedFrame]:
    """The Ethernet frames of a pcap or pcapng file; ConnectionFailed if it is unreadable.

    Blocking: for a worker thread or the command line.
    """
    from scapy.error import Scapy_Exception  # scapy only where pcaps are used
    from scapy.utils import RawPcapReader

    try:
        reader = RawPcapReader(str(path))
    except (OSError, Scapy_Exception) as err:
        raise ConnectionFailed(f"cannot read {path}: {err}") from err
    with contextlib.closing(reader):
        if getattr(reader, "linktype", LINKTYPE_ETHERNET) != LINKTYPE_ETHERNET:
            raise ConnectionFailed(f"{path} is not an Ethernet capture")
        for data, metadata in reader:
            yield CapturedFrame(_pcap_time(metadata), bytes(data))


def _pcap_time(metadata: object) -> float:
    seconds = getattr(metadata, "sec", None)
    if seconds is not None:  # pcap
        return float(seconds) + getattr(metadata, "usec", 0) / 1e6
    high, low = getattr(metadata, "tshigh", 0), getattr(metadata, "tslow", 0)
    resolution = getattr(metadata, "tsresol", 1_000_000)
    return ((high << 32) + low) / resolution  # pcapng


PCAP_MAGIC: Final = 0xA1B2C3D4
PCAP_SNAPLEN: Final = 0xFFFF


class PcapWriter:
    """Writes captured frames to a classic pcap file, in a worker thread a batch at a time.

    The format is four fixed fields per frame; writing it here keeps scapy (and its import
    time) out of ``capture``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("wb")  # closed by close()
        self._file.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN, 1))
        self.written = 0

    def _write(self, frames: list[CapturedFrame]) -> None:
        for frame in frames:
            seconds = int(frame.timestamp)
            micros = min(int((frame.timestamp - seconds) * 1e6), 999_999)
            data = frame.data[:PCAP_SNAPLEN]
            self._file.write(struct.pack("<IIII", seconds, micros, len(data), len(frame.data)))
            self._file.write(data)
        self._file.flush()

    async def write(self, frames: list[CapturedFrame]) -> None:
        """Append frames."""
        if frames:
            await asyncio.to_thread(self._write, frames)
            self.written += len(frames)

    async def close(self) -> None:
        """Flush and close the file."""
        await asyncio.to_thread(self._file.close)
