"""The documented format of matrix.json: ``docs/matrix.schema.json`` (JSON Schema 2020-12),
and a small validator for the part of JSON Schema it uses.

    SCHEMA_FILE          the schema shipped in the repository (docs/FORMAT.md documents it)
    schema()             the schema, loaded
    validate(data)       the places where ``data`` breaks the schema ([] when none)

The validator knows the keywords the schema uses (``KEYWORDS``); a self-test checks the
schema uses no other, so nothing in it is silently ignored. Any JSON Schema 2020-12
validator (``jsonschema``, ``check-jsonschema``) reads the same file.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "matrix.schema.json"
#: The keywords ``validate`` implements; the annotations (title, description ...) are ignored.
KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum", "const", "$ref",
                      "anyOf", "minimum", "minItems", "maxItems"})
ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@cache
def schema() -> dict[str, Any]:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def validate(data: Any, root: dict[str, Any] | None = None, limit: int = 20) -> list[str]:
    """Where ``data`` breaks the schema: ``$.cells[3].verdict: 'passs' is not one of ...`` (at most ``limit``)."""
    root = root or schema()
    found: list[str] = []
    _check(data, root, root, "$", found, limit)
    return found


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _check(value: Any, node: dict[str, Any], root: dict[str, Any], where: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    node = _resolve(node, root)
    if "anyOf" in node:
        tried = [_errors(value, option, root, where) for option in node["anyOf"]]
        if all(tried):  # none fits: the errors of the one that got deepest
            found.extend(max(tried, key=lambda e: len(e[0].split(":")[0]))[: limit - len(found)])
        return
    if "const" in node and value != node["const"]:
        found.append(f"{where}: {_show(value)} is not {node['const']!r}")
    if "enum" in node and value not in node["enum"]:
        found.append(f"{where}: {_show(value)} is not one of {', '.join(map(str, node['enum']))}")
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(TYPES[t](value) for t in types):
            found.append(f"{where}: {_show(value)} is not {' or '.join(types)}")
            return
    if "minimum" in node and TYPES["number"](value) and value < node["minimum"]:
        found.append(f"{where}: {value} is below {node['minimum']}")
    if isinstance(value, dict):
        for key in node.get("required", ()):
            if key not in value:
                found.append(f"{where}: lacks {key!r}")
        props = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                _check(item, props[key], root, f"{where}.{key}", found, limit)
            elif extra is False:
                found.append(f"{where}: unexpected {key!r}")
            elif isinstance(extra, dict):
                _check(item, extra, root, f"{where}.{key}", found, limit)
    if isinstance(value, list):
        if "minItems" in node and len(value) < node["minItems"]:
            found.append(f"{where}: fewer than {node['minItems']} items")
        if "maxItems" in node and len(value) > node["maxItems"]:
            found.append(f"{where}: more than {node['maxItems']} items")
        if "items" in node:
            for i, item in enumerate(value):
                _check(item, node["items"], root, f"{where}[{i}]", found, limit)


def _errors(value: Any, node: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    out: list[str] = []
    _check(value, node, root, where, out, 1)
    return out


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def keywords_used(node: Any) -> set[str]:
    """Every keyword the schema uses (property names under ``properties`` are not keywords)."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    out |= keywords_used(sub)
            elif key == "anyOf":
                for sub in value:
                    out |= keywords_used(sub)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out |= keywords_used(value)
    return out
