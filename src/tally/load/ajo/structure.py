"""A file's own structure against a dataset's schema: the file's spelling of each field
path (matched case-insensitively), the fields it has that the schema does not read, the
type to parse a JSON file with, and the SQL expression of each field path (Resolver)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tally.common import quote_ident, quote_literal
from tally.load import RefusedFile
from tally.load.ajo.schema import IDENTITY_ENTRY, IDENTITY_MAP, IDENTITY_MAP_TYPE, NULL_TEXT, PROPOSITION_ITEMS, ListOf, Node


def structure_of_type(column_type: duckdb.typing.DuckDBPyType) -> object:
    """A DuckDB type as the nested dict/list/str shape json_group_structure returns (a MAP
    is the string "MAP:<value structure as JSON>")."""
    if column_type.id == "struct":
        return {name: structure_of_type(child) for name, child in column_type.children}
    if column_type.id == "list":
        return [structure_of_type(column_type.child)]
    if column_type.id == "map":
        return {"__map__": structure_of_type(column_type.value)}
    return str(column_type)


def match_key(structure: object, name: str) -> list[str]:
    if not isinstance(structure, dict):
        return []
    return [key for key in structure if key.lower() == name.lower() and key != "__map__"]


def item_of(structure: object) -> object:
    while isinstance(structure, list) and structure:
        structure = structure[0]
    return structure


def find(structure: object, dotted: str) -> list[str] | None:
    """The file's own spelling of a dotted field path, or None when it is absent."""
    node, actual = structure, []
    for name in dotted.split("."):
        node = item_of(node)
        keys = match_key(node, name)
        if not keys:
            return None
        actual.append(keys[0])
        node = node[keys[0]]
    return actual


def unknown_fields(structure: object, schema: Node, prefix: str = "") -> list[str]:
    """Field paths present in the file that the schema does not read."""
    structure = item_of(structure)
    if isinstance(schema, ListOf):
        return unknown_fields(structure, schema.item, prefix)
    if not isinstance(schema, dict) or not isinstance(structure, dict):
        return []
    found = []
    known = {name.lower(): child for name, child in schema.items()}
    for key, child in structure.items():
        if key.lower() not in known:
            found.append(f"{prefix}{key}")
        else:
            found.extend(unknown_fields(child, known[key.lower()], f"{prefix}{key}."))
    return found


def json_type_sql(schema: Node, structure: object, path: str, source: Path) -> str:
    """The schema as a DuckDB type in the file's own key case (read_json matches keys
    case-sensitively): what `read_json(columns = ...)` parses, and nothing else."""
    structure = item_of(structure)
    if schema == IDENTITY_MAP:
        return IDENTITY_MAP_TYPE
    if isinstance(schema, str):
        return schema
    if isinstance(schema, ListOf):
        return json_type_sql(schema.item, structure, path, source) + "[]"
    parts = []
    for name, child in schema.items():
        keys = match_key(structure, name)
        if len(keys) > 1:
            raise RefusedFile(
                f"{source}: keys {', '.join(repr(path + k) for k in keys)} differ only by case; "
                "an export spells each field path one way",
                source,
            )
        actual = keys[0] if keys else name
        child_structure = structure[actual] if keys else None
        parts.append(f"{quote_ident(actual)} {json_type_sql(child, child_structure, f'{path}{actual}.', source)}")
    return f"STRUCT({', '.join(parts)})"


class Resolver:
    """SQL expressions for the schema's field paths in one file: the file's own spelling
    when the path is present (as text), null when it is absent."""

    def __init__(self, structure: dict, root: list[str]) -> None:
        self.root = root
        node: object = structure
        for name in root:
            node = node[name]
        self.structure = node

    def expression(self, actual: list[str]) -> str:
        return ".".join(quote_ident(name) for name in [*self.root, *actual])

    def text(self, dotted: str) -> str:
        actual = find(self.structure, dotted)
        if actual is None:
            return NULL_TEXT
        return f"cast({self.expression(actual)} as varchar)"

    def has(self, dotted: str) -> bool:
        return find(self.structure, dotted) is not None

    def identity_map(self) -> tuple[str, dict[str, str]] | None:
        """identityMap's expression and, per entry field, its text expression on lambda
        variable `i`; None when the file has no identityMap."""
        actual = find(self.structure, "identityMap")
        if actual is None:
            return None
        node: object = self.structure
        for name in actual:
            node = item_of(node)[name]
        entry = item_of(node.get("__map__")) if isinstance(node, dict) else None
        fields = {}
        for name in IDENTITY_ENTRY:
            keys = match_key(entry, name)
            fields[name] = f"cast(i.{quote_ident(keys[0])} as varchar)" if keys else NULL_TEXT
        return self.expression(actual), fields

    def identity_entries(self) -> str | None:
        """identityMap as a list of {namespace, id, primary, authenticatedState} (text), one
        per identity, or None when the file has no identityMap."""
        resolved = self.identity_map()
        if resolved is None:
            return None
        expression, fields = resolved
        values = ", ".join(f"{quote_literal(name)}: {value}" for name, value in fields.items())
        return (
            f"flatten(list_transform(map_entries({expression}), lambda e: list_transform(e.value, "
            f"lambda i: {{'namespace': e.key, {values}}})))"
        )

    def propositions(self) -> tuple[str, str, str] | None:
        """(propositions expression, items field, item id field) when the file has item ids."""
        propositions = find(self.structure, PROPOSITION_ITEMS)
        if propositions is None or find(self.structure, f"{PROPOSITION_ITEMS}.items.id") is None:
            return None
        node: object = self.structure
        for name in propositions:
            node = item_of(node)[name]
        items = match_key(item_of(node), "items")[0]
        item_id = match_key(item_of(item_of(node)[items]), "id")[0]
        return self.expression(propositions), quote_ident(items), quote_ident(item_id)

    def proposition_items(self) -> str:
        """The ids of `_experience.decisioning.propositions[].items[]`, flattened, or null."""
        resolved = self.propositions()
        if resolved is None:
            return "cast(null as varchar[])"
        propositions, items, item_id = resolved
        return (
            f"flatten(list_transform({propositions}, lambda p: list_transform(p.{items}, "
            f"lambda i: cast(i.{item_id} as varchar))))"
        )
