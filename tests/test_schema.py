"""The documented format: docs/matrix.schema.json, its validator, and docs/FORMAT.md.

Every matrix a self-test writes is validated (tests/conftest.py, ``schema_checked``); here:
the schema's version is the file's, the validator implements every keyword the schema
uses, it catches a broken matrix, and FORMAT.md documents every field the schema names.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from matrix.report import Matrix
from matrix.schema import ANNOTATIONS, KEYWORDS, SCHEMA_FILE, keywords_used, schema, validate
from model.cell import SCHEMA_VERSION

pytestmark = pytest.mark.selftest

FORMAT = SCHEMA_FILE.with_name("FORMAT.md")


def test_the_schema_is_the_files_version() -> None:
    assert schema()["properties"]["schema"] == {"const": SCHEMA_VERSION, "description": schema()["properties"][
        "schema"]["description"]}
    assert f"schema version {SCHEMA_VERSION}" in schema()["title"]


def test_the_validator_knows_every_keyword_the_schema_uses() -> None:
    assert keywords_used(schema()) <= KEYWORDS | ANNOTATIONS


def test_a_real_matrix_is_valid(real_matrix: Matrix) -> None:
    assert validate(real_matrix.to_json()) == []


def broken(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is KeyError:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return out


@pytest.mark.parametrize(("path", "value", "message"), [
    ("schema", 2, "$.schema: 2 is not 1"),
    ("cells.0.verdict", "passs", "$.cells[0].verdict"),
    ("cells.0.summary", KeyError, "$.cells[0]: lacks 'summary'"),
    ("cells.0.observed.sent.0.body_len", -1, "$.cells[0].observed.sent[0].body_len: -1 is below 0"),
    ("cells.0.observed.sent.0.headers", [["Host"]], "$.cells[0].observed.sent[0].headers[0]: fewer than 2 items"),
    ("cells.0.observed.got", "200", "$.cells[0].observed.got"),
    ("scenarios.0.level", "MAY", "$.scenarios[0].level"),
    ("clients.0.version", 2, "$.clients[0].version: 2 is not string"),
])
def test_a_broken_matrix_is_named(real_matrix: Matrix, path: str, value: Any, message: str) -> None:
    data = real_matrix.to_json()
    if path.startswith("cells.0.observed.sent"):
        first = next(i for i, c in enumerate(data["cells"]) if (c["observed"] or {}).get("sent"))
        path = path.replace("cells.0", f"cells.{first}")
        message = message.replace("cells[0]", f"cells[{first}]")
    found = validate(broken(data, path, value))
    assert found and message in found[0], found


def test_additions_within_a_version_are_allowed(real_matrix: Matrix) -> None:
    """Other work adds fields (environments, HTTP/2 frames, intermittent cells): not a new version."""
    data = real_matrix.to_json()
    data["run"]["complete"] = True
    data["clients"][0]["env"] = {"openssl": "3"}
    data["cells"][0]["h2"] = {"frames": [{"type": "SETTINGS"}]}
    assert validate(data) == []


def names(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                out |= set(value)
            out |= names(value)
    elif isinstance(node, list):
        for value in node:
            out |= names(value)
    return out


def test_format_md_documents_every_field() -> None:
    text = FORMAT.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_0-9]+)`", text))
    assert names(schema()) - documented == set()
    assert "matrix.schema.json" in text and Path(SCHEMA_FILE).exists()
