"""Turn pydantic's validation errors into one `SpecProblem` per problem.

Each problem has the path the user wrote (``("layers", 2, "rate")``, read as
``layers[2].rate``; pydantic's union tags left out), what was expected, what
came, and a fix where one is obvious, e.g. ``layers[2].rate must be in [0, 1);
got 1.5``. Ranges and choices are read off the field itself, so the messages can
never disagree with the spec.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import annotated_types as at
from pydantic import BaseModel, ValidationError

from nnbuilder.errors import SpecProblem

_TAG_FIELDS = ("type", "kind")  # discriminator fields of the spec's unions


def describe_errors(exc: ValidationError, root: type[BaseModel]) -> list[SpecProblem]:
    problems, alternatives = [], {}
    for err in exc.errors(include_url=False):
        path, field, _, _ = _locate(err["loc"], root)
        if field is not None and err["loc"] and not _is_field_key(err["loc"][-1], field):
            # A value matching no member of a plain union (str | list[str]) fails once per member:
            # report one line listing what each member wanted.
            alternatives.setdefault(path, (err.get("input"), []))[1].append(_expected_kind(err["type"]))
            continue
        problems.append(_describe(err, root))
    for path, (got, wanted) in alternatives.items():
        problems.append(SpecProblem(path, f"must be {' or '.join(dict.fromkeys(wanted))}; got {got!r}"))
    return problems


def _is_field_key(key, field) -> bool:
    # pydantic appends the member's type name ('str', 'list[str]') to loc for plain unions
    args = typing.get_args(_strip_annotated(field.annotation))
    return not (isinstance(key, str) and len(args) > 1 and key in {_type_name(a) for a in args})


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) if typing.get_origin(tp) is None else repr(tp).replace("typing.", "")


def _expected_kind(error_type: str) -> str:
    for prefix, words in (("string", "text"), ("list", "a list of text"), ("int", "a whole number"),
                          ("float", "a number"), ("bool", "true or false")):
        if error_type.startswith(prefix):
            return words
    return "a different kind of value"


def _describe(err: dict[str, Any], root: type[BaseModel]) -> SpecProblem:
    path, field, model, annotation = _locate(err["loc"], root)
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")

    def problem(message: str) -> SpecProblem:  # the message continues a sentence whose subject is the path
        return SpecProblem(path, message)

    if kind == "extra_forbidden":
        known = list(model.model_fields) if model else []
        hint = did_you_mean(str(err["loc"][-1]), known)
        return problem(f"is not a known setting; expected one of {', '.join(known)}{hint}")
    if kind == "missing":
        return problem("is required")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        choices = _union_tags(annotation)
        path = (*path, str(ctx.get("discriminator", "type")).strip(chr(39)))  # about the tag field itself
        if kind == "union_tag_not_found":
            return problem(f"is required: one of {', '.join(choices)}")
        return problem(f"must be one of {', '.join(choices)}; got {ctx.get('tag')!r}{did_you_mean(ctx.get('tag'), choices)}")
    if kind == "literal_error":
        choices = _literal_choices(field)
        return problem(f"must be one of {', '.join(map(str, choices))}; got {got!r}{did_you_mean(got, choices)}")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return problem(f"must be {_range_text(field)}; got {got!r}")
    if kind.startswith("int_"):
        return problem(f"must be a whole number; got {got!r}")
    if kind.startswith("float_"):
        return problem(f"must be a number; got {got!r}")
    if kind.startswith("string_"):
        return problem(f"must be text; got {got!r}")
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        fix = ": add a layer to it, or delete the block" if path[-1:] == ("layers",) else ""
        return problem(f"must hold at least {least} item{'s' if least != 1 else ''}; got {len(got or [])}{fix}")
    if kind.startswith("list_"):
        return problem(f"must be a list; got {got!r}")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return problem(f"must be an object of settings; got {got!r}")
    if kind == "value_error":
        return problem(str(err["msg"]).removeprefix("Value error, "))
    return SpecProblem(path, f"{err['msg']}; got {got!r}", sentence=True)  # pydantic's own words, after a colon


def _locate(loc: tuple, root: type[BaseModel]):
    """Walk `loc` through the spec classes: (the path the user wrote, last FieldInfo, last model, annotation)."""
    path, annotation, field, model = (), root, None, root
    for key in loc:
        if isinstance(key, int):
            path += (key,)
            annotation = _item_type(annotation)
            continue
        current = _model_of(annotation)
        if current is not None and key in current.model_fields:
            model, field = current, current.model_fields[key]
            annotation = field.annotation
            path += (key,)
            continue
        member = _union_member(annotation, key)
        if member is not None:  # pydantic puts the union tag in loc; users never wrote it
            annotation = model = member
            continue
        if field is not None and not _is_field_key(key, field):
            continue  # a plain-union member name ('str'): not something the user wrote
        model = current or model
        path += (str(key),)
    return path, field, model, annotation


def _strip_annotated(tp):
    """The type inside Annotated[...] and Optional (X | None: an optional section such as `gan`)."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(members) == 1 and \
                len(typing.get_args(tp)) == 2:
            tp = members[0]
            continue
        return tp


def _model_of(tp):
    tp = _strip_annotated(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _item_type(tp):
    args = typing.get_args(_strip_annotated(tp))
    return args[0] if args else tp


def _registry_union(tp):
    """The RegistryUnion marker on an annotation (the spec's layer union), or None."""
    return next((m for m in getattr(tp, "__metadata__", ()) if hasattr(m, "members")), None)


def _union_member(tp, tag):
    registry = _registry_union(tp)
    if registry is not None:
        return registry.members().get(tag) if isinstance(tag, str) else None
    for member in typing.get_args(_strip_annotated(tp)):
        model = _model_of(member)
        if model is None:
            continue
        for tag_field in _TAG_FIELDS:
            info = model.model_fields.get(tag_field)
            if info is not None and info.default == tag:
                return model
    return None


def _union_tags(tp) -> list[str]:
    registry = _registry_union(tp)
    if registry is not None:
        return list(registry.members())
    tags = []
    members = typing.get_args(_strip_annotated(tp)) or (tp,)  # a one-member union collapses to the member
    for member in members:
        model = _model_of(member)
        for tag_field in _TAG_FIELDS if model else ():
            if tag_field in model.model_fields:
                tags.append(str(model.model_fields[tag_field].default))
    return tags


def _literal_choices(field) -> list:
    if field is None:
        return []
    return list(typing.get_args(_strip_annotated(field.annotation)))


def _range_text(field) -> str:
    lo = hi = None
    for rule in getattr(field, "metadata", []):
        if isinstance(rule, at.Ge):
            lo = ("[", rule.ge)
        elif isinstance(rule, at.Gt):
            lo = ("(", rule.gt)
        elif isinstance(rule, at.Le):
            hi = (rule.le, "]")
        elif isinstance(rule, at.Lt):
            hi = (rule.lt, ")")
    if lo and hi:
        return f"in {lo[0]}{lo[1]:g}, {hi[0]:g}{hi[1]}"
    if lo:
        return f"{'at least' if lo[0] == '[' else 'greater than'} {lo[1]:g}"
    if hi:
        return f"{'at most' if hi[1] == ']' else 'less than'} {hi[0]:g}"
    return "in range"


def did_you_mean(got, choices) -> str:
    if not isinstance(got, str):
        return ""
    close = difflib.get_close_matches(got, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
