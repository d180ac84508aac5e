"""Decode Prometheus remote-write 1.0 payloads: snappy (block format) of a protobuf WriteRequest.

A small hand-written decoder of just the fields we need (labels and samples of each series);
no generated code. The raw bytes of a series' labels key a cache in the writer, so label
decoding is paid once per series, not once per sample.

Prometheus (gogoproto) writes each series as its labels, then its samples, and leaves out a
field whose value is zero: a sample of value 0 has no value field. For a series whose label
bytes are already known, the samples are read from the end of the series in the two shapes
Prometheus produces; anything else goes through the general field-by-field parser.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Container

import cramjam

_DOUBLE = struct.Struct("<d")
# A sample field at the end of a series: tag 2 + length 16, then value (tag 1, fixed64) and
# timestamp (tag 2, varint; 6 bytes for any millisecond time between 1971 and 2109).
_FULL_SAMPLE = struct.Struct("<3sdc6s")
_FULL_HEAD, _TIMESTAMP_TAG = b"\x12\x10\x09", b"\x10"
# The same with value 0, which Prometheus leaves out: tag 2 + length 7, then the timestamp.
_ZERO_SAMPLE = struct.Struct("<3s6s")
_ZERO_HEAD = b"\x12\x07\x10"
STALE_NAN_BITS = 0x7FF0000000000002  # Prometheus' staleness marker


class PayloadError(ValueError):
    """The body is not a snappy-compressed WriteRequest."""


# One sample: (the series' encoded label fields, timestamp in ms, value). The label run is a
# stable key for the series; samples of one series share the same bytes object. Flat tuples
# of atomic values, because the cyclic GC stops tracking those: nested per-series objects
# doubled the decoding time through garbage collection alone.
Sample = tuple[bytes, int, float]


class PayloadTooLarge(PayloadError):
    """The body would inflate beyond the configured limit (HTTP 413)."""


DEFAULT_MAX_DECOMPRESSED = 32 * 1024 * 1024


def decompress(body: bytes, limit: int = DEFAULT_MAX_DECOMPRESSED) -> bytes:
    """Snappy block format. Its preamble declares the inflated length: checked against
    ``limit`` before anything is allocated (a 5 MB body can declare 100 MB of zeros)."""
    try:
        declared, _ = _varint(body, 0)
    except PayloadError:
        raise PayloadError("not snappy block-compressed data: no length preamble") from None
    if declared > limit:
        raise PayloadTooLarge(f"inflates to {declared} bytes, above the limit of {limit} bytes")
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


def decode_write_request(data: bytes, known: Container[bytes] = frozenset()) -> list[Sample]:
    """The samples of a WriteRequest, in order. ``known``: label runs already validated by
    decode_labels (the writer's cache); series with those labels take the fast path."""
    out: list[Sample] = []
    append = out.append
    times: dict[bytes, int] = {}  # one scrape's timestamp is shared by thousands of series
    unpack_tail = _FULL_SAMPLE.unpack_from
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0x0A and pos + 2 < end and data[pos + 1] >= 0x80 > data[pos + 2]:
            length, pos = (data[pos + 1] & 0x7F) | data[pos + 2] << 7, pos + 3  # most series
        else:
            key, pos = _varint(data, pos)
            if key != 0x0A:  # not a timeseries (field 1): metadata or unknown, skipped
                pos = _skip(data, pos, key & 7)
                continue
            length, pos = _varint(data, pos)
        stop = pos + length
        if stop > end:
            raise PayloadError("truncated timeseries")
        # Inlined for the usual case, one sample after known labels (this loop is the
        # receiver's hot spot); _known_series handles several samples and zero values.
        if length >= 18:
            head, value, tag, raw = unpack_tail(data, stop - 18)
            if head == _FULL_HEAD and tag == _TIMESTAMP_TAG:
                timestamp = times.get(raw) or _six_byte_varint(raw, times)
                labels = data[pos : stop - 18]
                if timestamp and labels in known:
                    append((labels, timestamp, value))
                    pos = stop
                    continue
        if not _known_series(data, pos, stop, known, times, out):
            _series(data, pos, stop, out)
        pos = stop
    if pos != end:
        raise PayloadError("trailing bytes after the last field")
    return out


def _known_series(
    buf: bytes,
    start: int,
    end: int,
    known: Container[bytes],
    times: dict[bytes, int],
    out: list[Sample],
) -> bool:
    """Read samples back from the end; when what is left is a known label run, the series is
    exactly that (known runs hold only label fields, so a forward parse splits it the same).
    Appends the samples and returns True, or returns False and appends nothing."""
    found: list[tuple[int, float]] = []
    pos = end
    while pos - start >= 9:
        if pos - start >= 18:
            head, value, tag, raw = _FULL_SAMPLE.unpack_from(buf, pos - 18)
            if head == _FULL_HEAD and tag == _TIMESTAMP_TAG:
                timestamp = times.get(raw) or _six_byte_varint(raw, times)
                if timestamp:
                    found.append((timestamp, value))
                    pos -= 18
                    continue
        head, raw = _ZERO_SAMPLE.unpack_from(buf, pos - 9)
        if head != _ZERO_HEAD:
            break
        timestamp = times.get(raw) or _six_byte_varint(raw, times)
        if not timestamp:
            break
        found.append((timestamp, 0.0))
        pos -= 9
    labels = buf[start:pos]
    if labels not in known:
        return False
    out.extend((labels, timestamp, value) for timestamp, value in reversed(found))
    return True


def _six_byte_varint(raw: bytes, times: dict[bytes, int]) -> int:
    """The varint in ``raw`` when it is exactly 6 bytes long, else 0."""
    if raw[5] >= 0x80 or min(raw[:5]) < 0x80:
        return 0
    value = 0
    for byte in reversed(raw):
        value = value << 7 | (byte & 0x7F)
    times[raw] = value
    return value


def _series(buf: bytes, pos: int, end: int, out: list[Sample]) -> None:
    """General parser: fields in any order, unknown fields skipped."""
    label_run = bytearray()
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
        if field == 1:
            label_run += buf[pos - 1 : stop]  # tag included: the run is the series' cache key
        elif field == 2:
            samples.append(_sample(buf, body, stop))
        pos = stop  # exemplars (3), histograms (4): not stored
    if pos != end:
        raise PayloadError("truncated series")
    labels = bytes(label_run)
    out.extend((labels, timestamp, value) for timestamp, value in samples)


def _sample(buf: bytes, pos: int, end: int) -> tuple[int, float]:
    value, timestamp = 0.0, 0  # protobuf defaults: Prometheus leaves zero fields out
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 1:
            if pos + 8 > end:
                raise PayloadError("truncated sample value")
            value = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        elif field == 2 and wire == 0:
            timestamp, pos = _varint(buf, pos)
            if timestamp >= 1 << 63:
                timestamp -= 1 << 64
        else:
            pos = _skip(buf, pos, wire)
    if pos != end:
        raise PayloadError("truncated sample")
    return timestamp, value


def decode_labels(label_bytes: bytes) -> dict[str, str]:
    """``label_bytes`` is a run of Label fields (tag, length, Label message). Strict: anything
    else in it is a PayloadError, so a run that decodes is a valid key for the fast path."""
    labels: dict[str, str] = {}
    pos, end = 0, len(label_bytes)
    while pos < end:
        if label_bytes[pos] != 0x0A:
            raise PayloadError("expected a label field")
        length, pos = _varint(label_bytes, pos + 1)
        stop = pos + length
        if stop > end:
            raise PayloadError("truncated label")
        name = value = ""
        while pos < stop:
            key = label_bytes[pos]
            if key not in (0x0A, 0x12):
                raise PayloadError("unexpected field in a label")
            size, pos = _varint(label_bytes, pos + 1)
            if pos + size > stop:
                raise PayloadError("truncated label")
            try:
                text = label_bytes[pos : pos + size].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PayloadError("label is not UTF-8") from exc
            if key == 0x0A:
                name = text
            else:
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
    """Snappy-compressed WriteRequest, as Prometheus sends it (zero-valued fields left out)."""
    body = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for name, text in sorted(labels.items()):
            label = bytearray()
            _put_bytes(label, 1, name.encode())
            _put_bytes(label, 2, text.encode())
            _put_bytes(ts, 1, bytes(label))
        for timestamp, value in samples:
            sample = bytearray()
            if value != 0:
                sample += b"\x09" + _DOUBLE.pack(value)
            if timestamp != 0:
                _put_varint(sample, 2 << 3 | 0)
                _put_varint(sample, timestamp)
            _put_bytes(ts, 2, bytes(sample))
        _put_bytes(body, 1, bytes(ts))
    return bytes(cramjam.snappy.compress_raw(bytes(body)))


def is_stale_marker(value: float) -> bool:
    return math.isnan(value) and struct.unpack("<Q", _DOUBLE.pack(value))[0] == STALE_NAN_BITS
