"""YAML loading that remembers where every key and value stood.

Validation errors must name the file, the line and the field. PyYAML's node
tree carries line marks; we walk it once to map each path
(e.g. ``("spaces", 3, "zone")``) to its line, then load the data normally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from core.suggest import did_you_mean

Path_ = tuple[str | int, ...]


class ConfigError(ValueError):
    """A configuration problem a user must fix; its message says where and what."""


class YamlFileError(ConfigError):
    """A problem in a configuration file, located by file, line and field."""

    def __init__(self, file: Path | str, problems: Iterable[tuple[int | None, str, str]]):
        self.file = str(file)
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        for line, field, msg in self.problems:
            where = f"{self.file}:{line}" if line else self.file
            lines.append(f"{where}: {field}: {msg}" if field else f"{where}: {msg}")
        return "\n".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen[key] = 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_map(node: yaml.Node | None) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}

    def walk(n: yaml.Node, path: Path_) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = k.value
                # the key's own line is the most useful place to point at
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
                lines[(*path, key)] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return lines


class LocatedYaml:
    """Parsed YAML data plus a path -> line index."""

    def __init__(self, file: Path, data: Any, lines: dict[Path_, int]):
        self.file = file
        self.data = data
        self._lines = lines

    def line_of(self, path: Iterable[str | int]) -> int | None:
        p = tuple(path)
        while p:
            if p in self._lines:
                return self._lines[p]
            p = p[:-1]
        return self._lines.get(())


def load_located(file: Path) -> LocatedYaml:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlFileError(file, [(None, "", f"cannot read file: {exc.strerror}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise YamlFileError(file, [(line, "", f"invalid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise YamlFileError(file, [(None, "", f"invalid YAML: {exc}")]) from exc
    return LocatedYaml(file, data, _line_map(node))


def field_name(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def known_keys(model: type[BaseModel], loc: Path_) -> list[str]:
    """The keys the model allows at ``loc`` (the path of the mapping holding
    an unknown key); empty where the path leaves the models."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current is not None else None
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return []
    return list(current.model_fields) if current is not None else []


def validation_problems(
    located: LocatedYaml,
    errors: Iterable[Mapping[str, Any]],
    *,
    model: type[BaseModel] | None = None,
) -> list[tuple[int | None, str, str]]:
    """Turn pydantic error dicts into (line, field, message) triples. With the
    ``model`` validated, an unknown key gets the nearest allowed one suggested."""
    problems = []
    for err in errors:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if err.get("type") == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" if loc else "unknown key"
            if loc and model is not None:
                msg += did_you_mean(str(loc[-1]), known_keys(model, loc[:-1]))
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        problems.append((located.line_of(loc), field_name(loc), msg))
    return problems
