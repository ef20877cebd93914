"""A safe reader for PHP's serialize() format, as WordPress stores options.

Only data is understood: arrays, strings, integers, floats, booleans and null. Objects
(`O:`/`C:`) and references are refused rather than guessed at — nothing here can execute
or instantiate anything. String lengths are byte counts in PHP, so parsing works on bytes.
"""

from __future__ import annotations

from typing import Any


class PhpSerialError(ValueError):
    """The value is not PHP-serialised data this reader accepts."""


def php_unserialize(value: str | bytes) -> Any:
    data = value.encode("utf-8") if isinstance(value, str) else value
    parsed, end = _parse(data, 0, depth=0)
    if end != len(data):
        raise PhpSerialError(f"trailing data at byte {end}")
    return parsed


def php_list(value: str | bytes | None) -> list[Any]:
    """Unserialise an option that should hold a PHP list (e.g. active_plugins)."""
    if value is None or value == "" or value == b"":
        return []
    parsed = php_unserialize(value)
    if isinstance(parsed, dict):
        return list(parsed.values())
    raise PhpSerialError("expected a serialised array")


def _expect(data: bytes, pos: int, token: bytes) -> int:
    if data[pos : pos + len(token)] != token:
        raise PhpSerialError(f"expected {token!r} at byte {pos}")
    return pos + len(token)


def _read_until(data: bytes, pos: int, stop: bytes) -> tuple[bytes, int]:
    end = data.find(stop, pos)
    if end < 0:
        raise PhpSerialError(f"unterminated value at byte {pos}")
    return data[pos:end], end + len(stop)


def _parse(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > 32:
        raise PhpSerialError("nesting too deep")
    if pos >= len(data):
        raise PhpSerialError("unexpected end of data")
    kind = data[pos : pos + 1]
    if kind == b"N":
        return None, _expect(data, pos + 1, b";")
    if kind == b"b":
        raw, pos = _read_until(data, _expect(data, pos + 1, b":"), b";")
        if raw not in (b"0", b"1"):
            raise PhpSerialError("bad boolean")
        return raw == b"1", pos
    if kind == b"i":
        raw, pos = _read_until(data, _expect(data, pos + 1, b":"), b";")
        try:
            return int(raw), pos
        except ValueError:
            raise PhpSerialError("bad integer") from None
    if kind == b"d":
        raw, pos = _read_until(data, _expect(data, pos + 1, b":"), b";")
        try:
            return float(raw), pos
        except ValueError:
            raise PhpSerialError("bad float") from None
    if kind == b"s":
        raw, pos = _read_until(data, _expect(data, pos + 1, b":"), b":")
        try:
            length = int(raw)
        except ValueError:
            raise PhpSerialError("bad string length") from None
        pos = _expect(data, pos, b'"')
        if length < 0 or pos + length > len(data):
            raise PhpSerialError("string length runs past the end")
        chunk = data[pos : pos + length]
        pos = _expect(data, pos + length, b'";')
        return chunk.decode("utf-8", errors="replace"), pos
    if kind == b"a":
        raw, pos = _read_until(data, _expect(data, pos + 1, b":"), b":")
        try:
            count = int(raw)
        except ValueError:
            raise PhpSerialError("bad array size") from None
        pos = _expect(data, pos, b"{")
        result: dict[Any, Any] = {}
        for _ in range(count):
            key, pos = _parse(data, pos, depth + 1)
            if not isinstance(key, int | str):
                raise PhpSerialError("array keys must be integers or strings")
            item, pos = _parse(data, pos, depth + 1)
            result[key] = item
        return result, _expect(data, pos, b"}")
    raise PhpSerialError(f"unsupported type {kind!r} at byte {pos} (objects are refused)")
