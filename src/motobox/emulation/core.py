"""Fixes every moto service needs: how moto finds a handler and loads models (moto 5.2.5)."""

from __future__ import annotations

import threading
from typing import Any


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
