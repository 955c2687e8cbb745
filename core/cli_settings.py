"""Command-line options made from a settings class: one spelling for a setting.

Every field of a service's settings class is an option of the same name in each
command that uses the class, and an option given overrides the environment:

    setting          option                       environment variable
    reports_per_key  --reports-per-key            OCCUPANCY_API_REPORTS_PER_KEY
    store.url        --store-url                  OCCUPANCY_API_STORE__URL
    live_feed        --live-feed / --no-live-feed OCCUPANCY_API_LIVE_FEED
    mqtt_password    --mqtt-password-file PATH    OCCUPANCY_API_MQTT_PASSWORD

A nested model (``store``) is flattened into ``--store-<name>`` options; what
they give is merged over the ``..._STORE__*`` variables, not in their place. A
bool is a ``--x/--no-x`` pair. The help is the field's description, with the
variable and the default.

Secrets (``SecretStr`` fields) never take their value on the command line: a
command line is readable by every local user (``ps``, ``/proc/<pid>/cmdline``)
and stays in shell history. The option is ``--<name>-file PATH`` instead, a
file whose content (surrounding whitespace stripped) is the secret: a file of
mode 0600, a Docker secret or a systemd credential. The environment variable,
which only the process's own user and root can read, is the other way.

A command declares its own options as usual and one parameter for the rest:

    @app.callback(invoke_without_command=True)
    @settings_options(ApiSettings)
    def serve(given: Given[ApiSettings]) -> None:
        try:
            settings = given.settings()
        except SettingsError as exc:
            raise _fail(str(exc)) from None

A group whose commands each use part of one class (``occupancy summaries``)
decorates each command with what it uses:

    @app.command()
    @settings_options(SummariesSettings, exclude=("workers",))
    def run(given: Given[SummariesSettings]) -> None: ...

``exclude`` leaves out settings the command does not use (dotted names, e.g.
``"store.token"``), ``prefix`` names the options of a plain model
(``settings_options(StoreSettings, prefix="store")`` gives ``--store-url``, with
no variables), ``short`` adds short names (``{"registry": "-r"}``). Only light
imports here: the edge agent's command uses it on a Raspberry Pi.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import typer
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

_PLAIN = (bool, int, float, str, Path, SecretStr)


class SettingsError(ValueError):
    """Settings that cannot be used, in one line naming options and variables."""

    def __init__(self, problems: str):
        super().__init__(f"invalid settings: {problems}")
        self.problems = problems


@dataclass(frozen=True)
class Setting:
    """One option: a field of the class, or a field of a nested model."""

    path: tuple[str, ...]  # within the class: ("store", "url")
    label: str  # what messages call it: "store.url"
    stem: str  # the option without dashes: "store_url"
    kind: Any  # what the option parses: int, Path, an Enum, a Literal[...]
    info: FieldInfo
    env: str | None  # None: a plain model, or not reachable from the environment

    @property
    def secret(self) -> bool:
        return self.kind is SecretStr

    @property
    def dest(self) -> str:
        """The option's parameter name (``mqtt_password_file`` for a secret)."""
        return f"{self.stem}_file" if self.secret else self.stem

    @property
    def option(self) -> str:
        return "--" + self.dest.replace("_", "-")


def _kind(annotation: Any, where: str) -> Any:
    """The type an option parses for a field annotation (``X | None`` is X)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"{where}: no option for the union {annotation}")
        annotation = args[0]
    if get_origin(annotation) is Literal:
        if len({type(a) for a in get_args(annotation)}) == 1:
            return annotation
    elif isinstance(annotation, type) and (
        issubclass(annotation, (*_PLAIN, Enum)) or issubclass(annotation, BaseModel)
    ):
        return annotation
    raise TypeError(f"{where}: no option for the type {annotation}")


def settings_of(
    cls: type[BaseModel], *, prefix: str = "", exclude: Iterable[str] = ()
) -> list[Setting]:
    """The options of a settings class, in field order (nested ones flattened)."""
    env_prefix: str | None = None
    delimiter: str | None = None
    if issubclass(cls, BaseSettings):
        env_prefix = cls.model_config.get("env_prefix", "")
        delimiter = cls.model_config.get("env_nested_delimiter")
    skip = set(exclude)
    found: list[Setting] = []

    def walk(model: type[BaseModel], path: tuple[str, ...]) -> None:
        for name, info in model.model_fields.items():
            here = (*path, name)
            label = ".".join(([prefix] if prefix else []) + list(here))
            if label in skip or ".".join(here) in skip:
                continue
            kind = _kind(info.annotation, f"{cls.__name__}.{'.'.join(here)}")
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                walk(kind, here)
                continue
            env = None
            if env_prefix is not None and (len(here) == 1 or delimiter):
                env = (env_prefix + (delimiter or "").join(here)).upper()
            stem = label.replace(".", "_")
            found.append(Setting(here, label, stem, kind, info, env))

    walk(cls, ())
    return found


def _default(s: Setting) -> str | None:
    value = s.info.default
    if value is PydanticUndefined or value is None or s.secret:
        return None  # a factory's default is in the description
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return s.option if value else f"--no-{s.option[2:]}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) or '""'


def _help(s: Setting) -> str:
    text = (s.info.description or "").strip()
    if text and text[-1] not in ".?!)":
        text += "."
    if s.secret:
        text = f"{text} Read from this file: a secret stays off the command line.".strip()
    # click's own layout of the same notes, as the other options show them
    notes = [f"env var: {s.env}"] if s.env else []
    default = _default(s)
    if default is not None:
        notes.append(f"default: {default}")
    elif s.info.is_required():
        notes.append("required")
    return f"{text}  [{'; '.join(notes)}]".strip() if notes else text


def _parameter(s: Setting, short: str | tuple[str, ...]) -> inspect.Parameter:
    kind: Any = Path if s.secret else s.kind  # a secret's option names its file
    decls = [f"{s.option}/--no-{s.option[2:]}" if kind is bool else s.option]
    shorts = (short,) if isinstance(short, str) else short
    option = typer.Option(None, *decls, *shorts, help=_help(s), show_default=False)
    return inspect.Parameter(
        s.dest, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind | None
    )


def _read_secret(path: Path, option: str) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SettingsError(f"cannot read {option} {path}: {reason}") from None
    if not secret:
        raise SettingsError(f"{option} {path} is empty")
    return secret


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class SettingsOptions(Generic[M]):
    """The options of one settings class in one command."""

    cls: type[M]
    settings: tuple[Setting, ...]

    def find(self, loc: Iterable[Any]) -> Setting | None:
        """The setting a validation error's location names, if one does."""
        path = tuple(str(p) for p in loc)
        for s in self.settings:
            if path[: len(s.path)] == s.path:
                return s
        return None

    def describe(self, exc: ValidationError) -> str:
        problems = []
        for err in exc.errors(include_url=False):
            s = self.find(err["loc"])
            if s is None:
                where = ".".join(str(p) for p in err["loc"]) or "settings"
            else:
                where = f"{s.label} ({', '.join(x for x in (s.option, s.env) if x)})"
            problems.append(f"{where}: {err['msg']}")
        return "; ".join(problems)

    def given(self, values: Mapping[str, Any]) -> Given[M]:
        return Given(self, {k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Given(Generic[M]):
    """The settings options a command was given (those left out are absent)."""

    options: SettingsOptions[M]
    values: Mapping[str, Any]  # option parameter name -> value

    def __contains__(self, label: str) -> bool:
        return any(s.label == label and s.dest in self.values for s in self.options.settings)

    def kwargs(self) -> dict[str, Any]:
        """The options as the class's keyword arguments (secret files read)."""
        out: dict[str, Any] = {}
        for s in self.options.settings:
            if s.dest not in self.values:
                continue
            value = self.values[s.dest]
            if s.secret:
                value = _read_secret(Path(value), s.option)
            node = out
            for part in s.path[:-1]:
                node = node.setdefault(part, {})
            node[s.path[-1]] = value
        return out

    def settings(self, base: Mapping[str, Any] | None = None, /, **overrides: Any) -> M:
        """The settings; raises ``SettingsError``. The options win over ``base``
        (the command's own defaults) and lose to ``overrides``; all three are
        arguments of the class, so they win over its variables."""
        kwargs = _merge(_merge(dict(base or {}), self.kwargs()), overrides)
        try:
            return self.options.cls(**kwargs)
        except ValidationError as exc:
            raise SettingsError(self.options.describe(exc)) from None


def settings_options(
    cls: type[M],
    *,
    prefix: str = "",
    exclude: Iterable[str] = (),
    short: Mapping[str, str] | None = None,
    into: str = "given",
) -> Callable[[F], F]:
    """Decorate a command: its ``into`` parameter receives a ``Given`` of ``cls``
    and every setting of ``cls`` becomes an option of the command."""
    spec = SettingsOptions(cls, tuple(settings_of(cls, prefix=prefix, exclude=exclude)))
    shorts = dict(short or {})
    unknown = set(shorts) - {s.label for s in spec.settings}
    if unknown:
        raise TypeError(f"short names for unknown settings: {sorted(unknown)}")

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        if into not in sig.parameters:
            raise TypeError(f"{func.__name__} has no parameter {into!r} for the settings")
        own = [p for p in sig.parameters.values() if p.name != into]
        clash = {p.name for p in own} & {s.dest for s in spec.settings}
        if clash:
            raise TypeError(f"{func.__name__}: options named like settings: {sorted(clash)}")
        generated = [_parameter(s, shorts.get(s.label, ())) for s in spec.settings]

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            values = {s.dest: kwargs.pop(s.dest, None) for s in spec.settings}
            return func(**kwargs, **{into: spec.given(values)})

        # typer reads the parameters from the signature, and the types of the
        # command's own (string) annotations through the wrapped function.
        command.__signature__ = sig.replace(parameters=[*own, *generated])  # type: ignore[attr-defined]
        command.__annotations__ = {
            p.name: p.annotation for p in own if p.annotation is not inspect.Parameter.empty
        }
        command.settings_options = spec  # type: ignore[attr-defined]
        return command  # type: ignore[return-value]

    return decorate


def options_of(command: Callable[..., Any]) -> SettingsOptions[Any]:
    """The settings options a decorated command has (for tests and tools)."""
    spec = getattr(command, "settings_options", None)
    if not isinstance(spec, SettingsOptions):
        raise TypeError(f"{command!r} has no settings options")
    return spec
