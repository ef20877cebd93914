"""Reading untrusted request input: the JSON body, the page arguments of lists, ids in paths.

Each refuses bad input with a 4xx that names the field, before anything reaches a service
or the database: JSON nested deeper than any form of ours (which a recursive parser turns
into a RecursionError), text that is not valid Unicode (a lone surrogate, which no column
can store), page numbers and ids outside the range of the columns they end up in.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from flask import request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from ..errors import Invalid, Malformed
from ..schema import ID_MAX

# Our bodies are at most three levels deep (a campaign's filters hold lists); anything far
# deeper is not a form of ours.
MAX_JSON_DEPTH = 32
# The last page anyone can reach: offsets stay far inside the range every backend accepts.
PAGE_MAX = 1_000_000

SURROGATE = re.compile("[\ud800-\udfff]")  # unpaired: UTF-8 cannot encode them
NOT_TEXT = "contains characters that are not valid text (an unpaired surrogate)"


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")  # Python's parser accepts NaN and Infinity


def json_object(raw: bytes) -> dict[str, Any]:
    """`raw` parsed as a JSON object; Malformed (400) when it is not one or is nested more
    than MAX_JSON_DEPTH levels, Invalid (422) naming each field whose text is not valid."""
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise Malformed(f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
                        {"json": f"nested more than {MAX_JSON_DEPTH} levels"}) from None
    except ValueError:  # not JSON, not UTF-8/16/32, or a number with too many digits
        raise Malformed("Send a JSON object.") from None
    if not isinstance(data, dict):
        raise Malformed("Send a JSON object.")
    errors = _check_tree(data)
    if errors:
        raise Invalid(errors)
    return data


def _check_tree(data: dict[str, Any]) -> dict[str, str]:
    """Walk the parsed body without recursion: refuse depth beyond MAX_JSON_DEPTH and name
    the field (the nearest object key) of every string that is not valid text."""
    errors: dict[str, str] = {}
    stack: list[tuple[Any, int, str]] = [(data, 1, "json")]
    while stack:
        value, depth, name = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise Malformed(f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
                            {name: f"nested more than {MAX_JSON_DEPTH} levels"})
        if isinstance(value, dict):
            for key, item in value.items():
                if SURROGATE.search(key):
                    errors.setdefault(name, f"has a field name that {NOT_TEXT}")
                    stack.append((item, depth + 1, name))
                else:
                    stack.append((item, depth + 1, key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, name) for item in value)
        elif isinstance(value, str) and SURROGATE.search(value):
            errors.setdefault(name, NOT_TEXT)
    return errors


def page_args(default: int = 20, maximum: int = 100) -> tuple[int, int]:
    """`page` (1 to PAGE_MAX; below 1 means 1) and `per_page` (clamped to 1..maximum)."""
    values = {}
    for name, fallback in (("page", 1), ("per_page", default)):
        try:
            values[name] = int(request.args.get(name, fallback))
        except ValueError:
            raise Invalid({name: "must be a whole number"},
                          message=f"{name} must be a whole number") from None
    if values["page"] > PAGE_MAX:
        raise Invalid({"page": f"must be at most {PAGE_MAX}"},
                      message=f"page must be at most {PAGE_MAX}")
    return max(values["page"], 1), min(max(values["per_page"], 1), maximum)


class RowIdConverter(IntegerConverter):
    """`<int:…>` in our routes: a row id from 1 to ID_MAX. No row has another id, so such a
    path is not found (404) before any query runs."""

    def to_python(self, value: str) -> int:
        # Ten digits at most before int(): Python refuses to convert thousands of them.
        number = int(value) if len(value) <= len(str(ID_MAX)) else 0
        if not 1 <= number <= ID_MAX:
            # Not werkzeug's ValidationError: that answers 405 when a rule for another
            # method shares the path (DELETE /suppressions/<id> beside GET), not 404.
            raise NotFound()
        return number
