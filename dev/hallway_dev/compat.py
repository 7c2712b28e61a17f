"""Backward compatibility of event payload schemas (what would break a consumer)."""

from __future__ import annotations

from typing import Any


def _types(prop: dict[str, Any]) -> set[str]:
    if "type" in prop:
        return {prop["type"]} if isinstance(prop["type"], str) else set(prop["type"])
    found: set[str] = set()
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        found |= _types(option)
    if "$ref" in prop:
        found.add(prop["$ref"])
    if "const" in prop or "enum" in prop:
        found.add("enum:" + ",".join(map(str, prop.get("enum", [prop.get("const")]))))
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why a consumer written against ``old`` would fail on ``new`` (empty when safe).

    Safe: adding optional fields, widening a field's types. Breaking: removing a
    field, changing or narrowing its type, making a field required that was not.
    """
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, prop in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} was removed")
        elif not _types(prop) <= _types(new_props[name]):
            problems.append(
                f"field {name!r} changed type {sorted(_types(prop))} -> {sorted(_types(new_props[name]))}"
            )
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name!r} became required")
    return problems
