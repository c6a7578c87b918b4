"""Fixes every moto service needs: how moto finds a handler and loads models (moto 5.2.5)."""

from __future__ import annotations

import functools
import os
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
    service pays it (taskcat touches six). One loader, kept for the process, lists them once;
    and the list itself is kept in the user's cache, so the first call of a run skips it too."""
    import moto.core.utils as utils

    if getattr(utils._load_service_model, "motobox_shared", False):
        return
    loader = shared_loader()
    loader_lock = threading.Lock()

    def _load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
        with loader_lock:  # each model is loaded once: moto's get_service_model caches it
            model: dict[str, Any] = loader.load_service_model(service_name, model_name)
        return model

    _load_service_model.motobox_shared = True  # type: ignore[attr-defined]
    utils._load_service_model = _load_service_model


def _cached_list_loader() -> Any:
    """moto's loader (the same search paths) whose list of services with a ``service-2``
    model comes from the user's cache when the search paths hold only botocore's and moto's
    own data (a user's ``~/.aws/models`` is listed afresh every time)."""
    import moto
    from moto.core.loaders import Loader, moto_root

    from motobox import usercache

    class CachedListLoader(Loader):
        listed: list[str] | None = None

        def list_available_services(self, type_name: str) -> list[str]:
            own = {os.path.realpath(p) for p in (self.BUILTIN_DATA_PATH, moto_root)}
            if type_name != "service-2" or any(
                os.path.realpath(p) not in own and os.path.isdir(p) for p in self.search_paths
            ):
                return list(super().list_available_services(type_name))
            if self.listed is None:
                self.listed = usercache.cached(
                    "model-services",
                    f"{usercache.botocore_tag()}-moto{moto.__version__}",
                    lambda: super(CachedListLoader, self).list_available_services(type_name),
                    functools.partial(usercache.is_list_of, str),
                )
            return list(self.listed)

    return CachedListLoader(extra_search_paths=[moto_root])


@functools.cache
def shared_loader() -> Any:
    """The one model loader of the process: moto's (through the fix above) and motobox's own
    botocore session (``aws.models.session``) read models through it."""
    return _cached_list_loader()
