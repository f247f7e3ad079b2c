"""``MessageData``: the field catalogue (``policies/fields.toml``) as a JSON Schema.

A message's ``data`` may carry only catalogue fields, each of its catalogue type; the policy
engine refuses anything else with a 422. The document states the same rule, generated from
the same catalogue the engine loads, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.policy.catalogue import FieldSpec

COMPONENT = "MessageData"
# Marshmallow metadata for a ``data`` field: apispec copies ``allOf`` into the document.
MESSAGE_DATA = {
    "allOf": [{"$ref": f"#/components/schemas/{COMPONENT}"}],
    "description": "Catalogue field names to values (policies/fields.toml); nothing else",
}

_FORMATS = {"date": "date", "datetime": "date-time"}


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """The JSON Schema of one catalogue field's value."""
    schema: dict[str, Any]
    if spec.type == "integer":
        schema = {"type": "integer"}
    elif spec.type == "boolean":
        schema = {"type": "boolean"}
    else:
        schema = {"type": "string"}
        if spec.type in _FORMATS:
            schema["format"] = _FORMATS[spec.type]
        if spec.type == "enum":
            schema["enum"] = list(spec.values)
        if spec.max_length is not None:
            schema["maxLength"] = spec.max_length
    schema["description"] = f"{spec.description} [{spec.cls}]"
    return schema


def message_data_schema(fields: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """An object of catalogue fields only (``additionalProperties: false``)."""
    return {
        "type": "object",
        "description": "A message's data: only fields of the catalogue, each of its type",
        "properties": {name: field_schema(fields[name]) for name in sorted(fields)},
        "additionalProperties": False,
    }
