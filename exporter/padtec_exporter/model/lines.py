"""The exposition text of a measure series, made once when the decoder first sees the series.

A measure's line is three byte strings: the series (``padtec_power_dbm{site="..",...,port=".."``),
the same for every poll of the series; the NMS label that closes it (``,nms="backbone"} ``),
added by the renderer (records do not depend on what the NMS is called); and the sample
(``-3.210\\n``), new when the value changes. The renderer joins them as they are: a known series
costs no formatting per render, and two records of one series share the series bytes.
"""

from __future__ import annotations

from padtec_exporter.model.families import UNKNOWN_FAMILY

PREFIX = "padtec_"
# The decimal text the NMS sends ("26.549", "-3.210"), once Python has parsed it as a float, is
# read the same by Prometheus' parser: passed through verbatim. Anything with other characters
# (a decimal comma, spaces, exponents) or a scaled value is written from the float.
_DECIMAL_CHARACTERS = str.maketrans("", "", "0123456789.-")


def escape(value: str) -> str:
    """A label value in the text format: backslash, double quote and newline escaped."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def encode(text: str) -> bytes:
    # "replace": a lone surrogate in a label (JSON allows "\ud800") must not fail a render.
    return text.encode("utf-8", "replace")


def measure_series(
    family: str,
    *,
    site: str,
    card_uid: str,
    name: str,
    key: str,
    subkey: str,
    port: str,
    group: str,
) -> bytes:
    """``padtec_<family>{labels`` of one measure, open for ``nms_label``; the generic family
    also names the group (several groups share it)."""
    extra = f',measure_group="{escape(group)}"' if family == UNKNOWN_FAMILY else ""
    return encode(
        f'{PREFIX}{family}{{site="{escape(site)}",card_uid="{escape(card_uid)}",'
        f'measure="{escape(name)}",measure_key="{escape(key)}",'
        f'measure_subkey="{escape(subkey)}",port="{escape(port)}"{extra}'
    )


def nms_label(nms: str) -> bytes:
    """The end of every measure series of one NMS."""
    return encode(f',nms="{escape(nms)}"}} ')


def sample(value: float, raw: object, scale: float) -> bytes:
    """The value text and newline: the NMS's own decimal text when it is a plain decimal and
    no unit scaling applies, else the shortest text of the float. ``raw`` must be the text
    ``value`` was parsed from (the caller validated it; it is never re-formatted)."""
    if (
        scale == 1.0
        and isinstance(raw, str)
        and raw.isascii()
        and not raw.translate(_DECIMAL_CHARACTERS)
    ):
        return f"{raw}\n".encode()
    return f"{value!r}\n".encode()
