"""Model specs that name your own classes: ``river:``, ``sklearn:`` and ``py:``.

* ``river:tree.HoeffdingTreeClassifier(grace_period=100)``: a River class by
  its dotted name under ``river``;
* ``sklearn:linear_model.SGDClassifier(loss='log_loss')``: a scikit-learn
  class under ``sklearn``;
* ``py:mypackage.module:factory`` (or ``...:factory(k=v)``): a class or
  function of your own module, called to make the model.

Arguments are Python literals only (numbers, strings, lists, dicts, ``None``,
``True``...): each is read by :func:`ast.literal_eval`, never evaluated as
code, and only the named package's modules are imported. The model is then
adapted by :func:`~streamlearn.learn.adapters.adapt`.

Examples
--------
>>> learner, name = build_user_spec("river:linear_model.LinearRegression(l2=0.1)", "regression")
>>> name, type(learner).__name__
('river:linear_model.LinearRegression(l2=0.1)', 'RiverRegressor')
>>> build_user_spec("river:tree.HoeffdingTreeClassifier(__import__('os').system('x'))",
...                 "classification")
Traceback (most recent call last):
...
streamlearn.errors.ConfigError: model spec "river:tree.HoeffdingTreeClassifier(__import__('os').system('x'))": arguments must be Python literals (numbers, strings, lists, dicts), not __import__('os').system('x')
"""

from __future__ import annotations

import ast
import importlib
from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.learn.adapters import adapt
from streamlearn.learn.base import Learner
from streamlearn.types import Task

__all__ = ["PREFIXES", "build_user_spec", "is_user_spec"]

#: spec prefixes and the package each may import from (``py``: the one it names)
PREFIXES = {"river": "river", "sklearn": "sklearn", "py": None}


def is_user_spec(text: str) -> bool:
    """Whether a ``--model`` value names a class of River, scikit-learn or your own."""
    return text.strip().partition(":")[0] in PREFIXES and ":" in text


def _split_call(spec: str, rest: str) -> tuple[str, str]:
    """``a.b.C(args)`` as ``("a.b.C", "(args)")``; no parentheses: ``("a.b.C", "()")``."""
    rest = rest.strip()
    if "(" not in rest:
        return rest, "()"
    path, _, args = rest.partition("(")
    if not args.endswith(")"):
        raise ConfigError(f"model spec {spec!r}: unbalanced parentheses")
    return path.strip(), "(" + args


def _literal_args(spec: str, args: str) -> tuple[list[Any], dict[str, Any]]:
    try:
        tree = ast.parse("f" + args, mode="eval")
    except SyntaxError:
        raise ConfigError(f"model spec {spec!r}: cannot read the arguments {args}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ConfigError(f"model spec {spec!r}: cannot read the arguments {args}")

    def literal(node: ast.expr) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ConfigError(
                f"model spec {spec!r}: arguments must be Python literals (numbers, strings, "
                f"lists, dicts), not {ast.unparse(node)}"
            ) from None

    positional = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise ConfigError(f"model spec {spec!r}: *args are not accepted")
        positional.append(literal(node))
    named = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ConfigError(f"model spec {spec!r}: **kwargs are not accepted")
        named[kw.arg] = literal(kw.value)
    return positional, named


def _dotted(spec: str, path: str) -> list[str]:
    parts = path.split(".")
    if not path or not all(p.isidentifier() and not p.startswith("_") for p in parts):
        raise ConfigError(f"model spec {spec!r}: {path!r} is not a dotted name of public names")
    return parts


def _import(spec: str, module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"model spec {spec!r}: cannot import {module} ({exc})") from None


def _attribute(spec: str, owner: Any, names: list[str], where: str) -> Any:
    obj = owner
    for n in names:
        if not hasattr(obj, n):
            raise ConfigError(f"model spec {spec!r}: {where} has no {'.'.join(names)}")
        obj = getattr(obj, n)
    return obj


def _resolve(spec: str) -> tuple[Any, str, str]:
    """The callable a spec names, its argument text, and the package it must come from."""
    prefix, _, rest = spec.strip().partition(":")
    if prefix == "py":
        module, colon, rest = rest.partition(":")
        if not colon:
            raise ConfigError(f"model spec {spec!r}: expected py:MODULE:FACTORY")
        _dotted(spec, module)
        path, args = _split_call(spec, rest)
        target = _attribute(spec, _import(spec, module), _dotted(spec, path), module)
        return target, args, module.partition(".")[0]
    package = PREFIXES[prefix]
    assert package is not None
    path, args = _split_call(spec, rest)
    parts = _dotted(spec, path)
    home = _import(spec, ".".join([package, *parts[:-1]]))
    target = _attribute(spec, home, parts[-1:], home.__name__)
    if not isinstance(target, type):
        raise ConfigError(f"model spec {spec!r}: {path} is not a class")
    return target, args, package


def build_user_spec(spec: str, task: Task) -> tuple[Learner, str]:
    """Import, construct with literal arguments, and adapt the model a spec names."""
    target, args, package = _resolve(spec)
    home = getattr(target, "__module__", "") or ""
    if home.partition(".")[0] != package:
        raise ConfigError(
            f"model spec {spec!r}: {getattr(target, '__name__', target)} comes from {home}, "
            f"not from {package}"
        )
    if not callable(target):
        raise ConfigError(f"model spec {spec!r}: {target!r} cannot be called")
    positional, named = _literal_args(spec, args)
    try:
        model = target(*positional, **named)
    except Exception as exc:
        raise ConfigError(f"model spec {spec!r}: {type(exc).__name__}: {exc}") from None
    return adapt(model, task, name=spec.strip())
