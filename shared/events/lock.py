"""The lock of the published contract: every tag and the JSON schema of each of its fields.

``published.json`` beside this file records what has been published. The contract test
fails when a locked tag disappears, a locked field disappears or changes type, or a new tag
or field is not yet in the lock. After adding an event or an optional field on purpose:

    python -m shared.events.lock --update
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import msgspec

from shared.events import published_event_types
from shared.events.base import Event

__all__ = ["LOCK_FILE", "breaking_changes", "describe", "unlocked_additions"]

LOCK_FILE = Path(__file__).with_name("published.json")

Schema = dict[str, dict[str, Any]]


def _kind(info: msgspec.inspect.Type) -> str:
    """A compact name of a type, finer than JSON schema (which calls a datetime a string)."""
    if isinstance(info, msgspec.inspect.UnionType):
        return " | ".join(_kind(t) for t in info.types)
    if isinstance(info, msgspec.inspect.DictType):
        return f"Dict[{_kind(info.key_type)}, {_kind(info.value_type)}]"
    item = getattr(info, "item_type", None)
    name = type(info).__name__.removesuffix("Type")
    return f"{name}[{_kind(item)}]" if item is not None else name


def _shape(schema: Any) -> Any:
    """A JSON schema without its prose (titles, descriptions): rewording is not a type change."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in {"title", "description"}}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def describe(types: dict[str, type[Event]]) -> Schema:
    """For each tag, each field's kind and JSON schema (self-contained, with its own $defs)."""
    return {
        tag: {
            f.encode_name: {
                "kind": _kind(msgspec.inspect.type_info(f.type)),
                "json": _shape(msgspec.json.schema(f.type)),
            }
            for f in msgspec.structs.fields(cls)
        }
        for tag, cls in sorted(types.items())
    }


def _resolve(schema: Any, defs: dict[str, Any]) -> Any:
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return defs.get(ref.rpartition("/")[2], schema) if ref else schema


def _reads(old: Any, new: Any, old_defs: dict[str, Any], new_defs: dict[str, Any]) -> bool:  # noqa: PLR0911 -- a return per shape
    """Whether data written with ``old`` still reads as ``new``: the same types, no property
    removed, no new required property; new optional properties (and defaults) are fine."""
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return bool(old == new)
    if "anyOf" in old or "anyOf" in new:
        old_alternatives, new_alternatives = old.get("anyOf", [old]), new.get("anyOf", [new])
        return all(any(_reads(o, n, old_defs, new_defs) for n in new_alternatives) for o in old_alternatives)
    if old.get("type") != new.get("type") or old.get("format") != new.get("format"):
        return False
    if "properties" in old or "properties" in new:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        if set(new.get("required", [])) - set(old.get("required", [])):
            return False
        return all(k in new_props and _reads(v, new_props[k], old_defs, new_defs) for k, v in old_props.items())
    for key in ("items", "additionalProperties"):
        if key in old and not _reads(old[key], new.get(key), old_defs, new_defs):
            return False
    old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
    if len(old_prefix) != len(new_prefix):
        return False
    if not all(_reads(o, n, old_defs, new_defs) for o, n in zip(old_prefix, new_prefix, strict=True)):
        return False
    ignored = {"items", "additionalProperties", "prefixItems", "default", "$defs"}
    return {k: v for k, v in old.items() if k not in ignored} == {k: v for k, v in new.items() if k not in ignored}


def _compatible(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old_json, new_json = old["json"], new["json"]
    return old["kind"] == new["kind"] and _reads(
        old_json, new_json, old_json.get("$defs", {}), new_json.get("$defs", {})
    )


def breaking_changes(locked: Schema, current: Schema) -> list[str]:
    """What ``current`` breaks of the ``locked`` contract: removed tags, fields, changed types
    (also inside nested structs; an added optional field anywhere is not a break)."""
    problems = []
    for tag, fields in locked.items():
        if tag not in current:
            problems.append(f"{tag}: published event type removed")
            continue
        for name, schema in fields.items():
            if name not in current[tag]:
                problems.append(f"{tag}.{name}: published field removed")
            elif not _compatible(schema, current[tag][name]):
                problems.append(f"{tag}.{name}: type changed from {schema} to {current[tag][name]}")
    return problems


def unlocked_additions(locked: Schema, current: Schema) -> list[str]:
    """Tags and fields in ``current`` that the lock does not list yet, or lists in an older
    (compatible) shape."""
    return [
        f"{tag}.{name}" if tag in locked else tag
        for tag, fields in current.items()
        for name in (fields if tag in locked else [""])
        if tag not in locked or name not in locked[tag] or locked[tag][name] != fields[name]
    ]


def read_lock() -> Schema:
    result: Schema = json.loads(LOCK_FILE.read_text(encoding="utf-8"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="add new tags and fields to the lock")
    args = parser.parse_args()
    current = describe(published_event_types())
    locked = read_lock() if LOCK_FILE.exists() else {}
    if problems := breaking_changes(locked, current):
        raise SystemExit("breaking changes, not written:\n" + "\n".join(problems))
    additions = unlocked_additions(locked, current)
    if args.update:
        LOCK_FILE.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(f"{'added' if args.update else 'not locked'}: {a}" for a in additions) or "lock is up to date")


if __name__ == "__main__":
    main()
