"""Decode Prometheus remote-write 1.0 payloads: snappy (block format) of a protobuf WriteRequest.

A small hand-written decoder of just the fields we need (labels and samples of each series);
no generated code. The raw bytes of a series' labels key a cache in the writer, so label
decoding is paid once per series, not once per sample.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import cramjam

_DOUBLE = struct.Struct("<d")
STALE_NAN_BITS = 0x7FF0000000000002  # Prometheus' staleness marker


class PayloadError(ValueError):
    """The body is not a snappy-compressed WriteRequest."""


@dataclass(slots=True)
class Series:
    label_bytes: bytes  # the encoded label fields, a stable key for the series
    samples: list[tuple[int, float]]  # (timestamp ms, value)


def decompress(body: bytes) -> bytes:
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:  # cramjam raises its own DecompressionError
        raise PayloadError(f"not snappy block-compressed data: {exc}") from exc


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise PayloadError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise PayloadError("varint too long")


def _skip(buf: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        length, pos = _varint(buf, pos)
        return pos + length
    if wire == 5:
        return pos + 4
    raise PayloadError(f"unsupported wire type {wire}")


def decode_write_request(data: bytes) -> list[Series]:
    out: list[Series] = []
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise PayloadError("truncated timeseries")
            out.append(_series(data, pos, pos + length))
            pos += length
        else:
            pos = _skip(data, pos, wire)
    if pos != end:
        raise PayloadError("trailing bytes after the last field")
    return out


def _series(buf: bytes, pos: int, end: int) -> Series:
    # Fast path for what Prometheus sends: every label (field 1) before the samples. The run
    # of label fields is kept as raw bytes (tags included): the series' cache key.
    start = pos
    while pos < end and buf[pos] == 0x0A:
        size = buf[pos + 1] if pos + 1 < end else 0x80
        if size < 0x80:
            pos += 2 + size
        else:
            size, after = _varint(buf, pos + 1)
            pos = after + size
    if pos > end:
        raise PayloadError("truncated label")
    labels = buf[start:pos]
    samples: list[tuple[int, float]] = []
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire != 2:
            pos = _skip(buf, pos, wire)
            continue
        length, body = _varint(buf, pos)
        stop = body + length
        if stop > end:
            raise PayloadError("truncated field")
        if field == 1:  # a label after a sample: unusual order, still accepted
            labels += buf[pos - 1 : stop]
        elif field == 2:
            samples.append(_sample(buf, body, stop))
        pos = stop
    return Series(bytes(labels), samples)


def _sample(buf: bytes, pos: int, end: int) -> tuple[int, float]:
    value, timestamp = math.nan, 0
    if end - pos >= 11 and buf[pos] == 0x09 and buf[pos + 9] == 0x10:  # value, then timestamp
        value = _DOUBLE.unpack_from(buf, pos + 1)[0]
        timestamp, after = _varint(buf, pos + 10)
        if after == end:
            return (timestamp - (1 << 64) if timestamp >= 1 << 63 else timestamp), value
        value, timestamp = math.nan, 0
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 1:
            value = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        elif field == 2 and wire == 0:
            timestamp, pos = _varint(buf, pos)
            if timestamp >= 1 << 63:
                timestamp -= 1 << 64
        else:
            pos = _skip(buf, pos, wire)
    return timestamp, value


def decode_labels(label_bytes: bytes) -> dict[str, str]:
    """``label_bytes`` is a run of Label fields (tag, length, Label message)."""
    labels: dict[str, str] = {}
    pos, end = 0, len(label_bytes)
    while pos < end:
        _, pos = _varint(label_bytes, pos)  # the field tag (1, length-delimited)
        length, pos = _varint(label_bytes, pos)
        stop = pos + length
        name = value = ""
        while pos < stop:
            key, pos = _varint(label_bytes, pos)
            size, pos = _varint(label_bytes, pos)
            try:
                text = label_bytes[pos : pos + size].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PayloadError("label is not UTF-8") from exc
            if key >> 3 == 1:
                name = text
            elif key >> 3 == 2:
                value = text
            pos += size
        labels[name] = value
    return labels


# -- encoding (tests and the benchmark build payloads with it) --------------------------------
def _put_varint(out: bytearray, value: int) -> None:
    value &= (1 << 64) - 1
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _put_bytes(out: bytearray, field: int, data: bytes) -> None:
    _put_varint(out, field << 3 | 2)
    _put_varint(out, len(data))
    out += data


def encode_write_request(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> bytes:
    """Snappy-compressed WriteRequest, as Prometheus sends it."""
    body = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for name, text in sorted(labels.items()):
            label = bytearray()
            _put_bytes(label, 1, name.encode())
            _put_bytes(label, 2, text.encode())
            _put_bytes(ts, 1, bytes(label))
        for timestamp, value in samples:
            sample = bytearray(b"\x09") + _DOUBLE.pack(value)
            _put_varint(sample, 2 << 3 | 0)
            _put_varint(sample, timestamp)
            _put_bytes(ts, 2, bytes(sample))
        _put_bytes(body, 1, bytes(ts))
    return bytes(cramjam.snappy.compress_raw(bytes(body)))


def is_stale_marker(value: float) -> bool:
    return math.isnan(value) and struct.unpack("<Q", _DOUBLE.pack(value))[0] == STALE_NAN_BITS
