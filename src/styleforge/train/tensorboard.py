"""A minimal TensorBoard event-file writer for scalars (TFRecord framing, masked CRC-32C, hand-encoded
Event/Summary protobufs), so logging needs no TensorFlow or tensorboard package."""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint((number << 3) | wire) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def _event(wall_time: float, step: int, file_version: str | None = None, summary: bytes | None = None) -> bytes:
    out = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if summary is not None:
        out += _bytes_field(5, summary)
    return out


class EventWriter:
    """Appends scalar summaries to `<logdir>/events.out.tfevents.<time>.<host>`."""

    def __init__(self, logdir: str | os.PathLike):
        self.path = Path(logdir) / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self.file = open(self.path, "ab")
        self._write(_event(time.time(), 0, file_version="brain.Event:2"))

    def _write(self, record: bytes) -> None:
        header = struct.pack("<Q", len(record))
        self.file.write(header + struct.pack("<I", _masked(crc32c(header))) + record
                        + struct.pack("<I", _masked(crc32c(record))))

    def scalars(self, values: dict[str, float], step: int) -> None:
        summary = b"".join(
            _bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack("<f", float(v))))
            for tag, v in values.items())
        self._write(_event(time.time(), step, summary=summary))
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_scalars(path: str | os.PathLike) -> list[tuple[int, str, float]]:
    """(step, tag, value) of every scalar in an event file; checks the CRCs (for tests and tools)."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        header = data[pos:pos + 8]
        if struct.unpack_from("<I", data, pos + 8)[0] != _masked(crc32c(header)):
            raise ValueError("bad length CRC")
        record = data[pos + 12:pos + 12 + length]
        if struct.unpack_from("<I", data, pos + 12 + length)[0] != _masked(crc32c(record)):
            raise ValueError("bad record CRC")
        pos += 16 + length
        out.extend(_parse_event(record))
    return out


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            length, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        yield number, value


def _parse_event(record: bytes):
    step, out = 0, []
    for number, value in _fields(record):
        if number == 2:
            step = value
        elif number == 5:
            for _, item in _fields(value):
                parts = dict(_fields(item))
                out.append((step, parts[1].decode(), struct.unpack("<f", parts[2])[0]))
    return out
