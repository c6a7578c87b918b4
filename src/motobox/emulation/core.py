"""Fixes every moto service needs: how moto finds a handler and loads models (moto 5.2.5);
and ``after_import``, for fixes of a moto module that should not import it early."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any


def after_import(name: str, then: Callable[[Any], None], ready: Callable[[Any], bool]) -> None:
    """``then(module)`` for the module ``name``: now if it is imported (``ready(module)`` tells
    a module whose import is still running from a finished one), else right after its first
    import, so a fix does not import moto's modules before a call needs them (``moto.iam``
    alone is ~25 ms of a cloud's start-up)."""
    module = sys.modules.get(name)
    if module is not None:
        if not ready(module):  # asked from inside its own import: no later import will come
            raise RuntimeError(f"{name} is still being imported; its fix cannot wait for it")
        then(module)
    elif not any(isinstance(f, _AfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(name, then))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``then(module)`` right after ``name`` is first executed; removes itself."""

    def __init__(self, name: str, then: Callable[[Any], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # found once; the other finders locate the module
        spec = importlib.util.find_spec(fullname)
        loader = spec.loader if spec else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute, then = loader.exec_module, self.then

        def exec_module(module: Any) -> None:
            execute(module)
            then(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def fix_method_names_per_request() -> None:
    """moto 5.2.5 (``BaseResponse.call_action``) lists every method of the response class with
    ``inspect.getmembers`` on every request, to find the action's handler: about 0.16 ms of a
    1.3 ms sts:GetCallerIdentity. A class's methods do not change while moto serves, so the list
    is kept per class."""
    import moto.core.responses as responses

    original = responses.method_names_from_class
    if getattr(original, "motobox_cached", False):
        return
    cache: dict[type, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        names = cache.get(clazz)
        if names is None:
            names = cache[clazz] = original(clazz)
        return list(names)

    method_names_from_class.motobox_cached = True  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class


def fix_service_model_loader() -> None:
    """moto 5.2.5 (``moto.core.utils._load_service_model``) makes a new botocore ``Loader``
    for every model it loads, and a new loader lists all ~450 service folders again (about
    1,000 ``stat`` calls, 25 ms) before it reads one file: a program's first call to each
    service pays it (taskcat touches six). One loader, kept for the process (``aws.models``,
    which motobox's own model lookups use too), lists them once; and the list itself is kept
    in the user's cache, so the first call of a run skips it too."""
    import moto.core.utils as utils

    if getattr(utils._load_service_model, "motobox_shared", False):
        return
    from motobox.aws.models import loader as shared_loader

    loader = shared_loader()
    loader_lock = threading.Lock()

    def _load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
        with loader_lock:  # each model is loaded once: moto's get_service_model caches it
            model: dict[str, Any] = loader.load_service_model(service_name, model_name)
        return model

    _load_service_model.motobox_shared = True  # type: ignore[attr-defined]
    utils._load_service_model = _load_service_model


def fix_random_strings() -> None:
    """moto 5.2.5 (``MotoRandom.get_random_string``, ``get_random_hex``) draws every character
    with its own ``Random.choice`` call: the 52-character request id of every answer
    (``gen_amzn_requestid_long``) costs 52 calls, ~20 us of a ~300 us call. One
    ``Random.choices`` call draws the same distribution from the same seedable generator
    (``/moto-api/seed`` still makes ids repeatable; the sequence differs from moto's own)."""
    import string

    from moto.moto_api._internal.moto_random import HEX_CHARS, MotoRandom

    if getattr(MotoRandom.get_random_string, "motobox_fast", False):
        return

    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    hex_chars = [str(c) for c in HEX_CHARS]

    def get_random_hex(self: Any, length: int = 8) -> str:
        return "".join(self.choices(hex_chars, k=length))

    get_random_string.motobox_fast = True  # type: ignore[attr-defined]
    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    MotoRandom.get_random_hex = get_random_hex  # type: ignore[method-assign]
