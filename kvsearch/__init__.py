"""kvsearch: search Dutch parliamentary written questions and the ministers' answers."""

import functools
import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"


class _Deferred(types.ModuleType):
    """Stands in for a module that Whoosh imports at start-up but uses only in corners
    kvsearch never reaches: ``urllib.request`` (for ``urlretrieve``, which pulls in
    ``http.client``, ``email`` and ``ssl``), the ``cached_property`` package (which
    imports ``asyncio``) and ``whoosh.lang.morph_en`` (English word variations, a large
    regular expression). Together about a third of the time to import Whoosh.

    The names Whoosh imports are provided (a function that loads the real module when
    called, or an equivalent: ``functools.cached_property``); any other attribute loads
    the real module, which then replaces the stand-in, so other code sees no difference.
    """

    def __init__(self, name: str, provided: dict[str, Any]) -> None:
        super().__init__(name)
        self.__dict__.update(provided)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # the import system probing (__path__, ...)
            raise AttributeError(attr)
        return getattr(_load_real(self.__name__), attr)


def _load_real(name: str) -> types.ModuleType:
    module = sys.modules.get(name)
    if isinstance(module, _Deferred):
        del sys.modules[name]
        module = importlib.import_module(name)
    return importlib.import_module(name) if module is None else module


def _calls_real(name: str, function: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_load_real(name), function)(*args, **kwargs)

    call.__name__ = function
    return call


def _defer(name: str, **provided: Any) -> None:
    if name in sys.modules:
        return
    module = _Deferred(name, provided)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    sys.modules[name] = module


_defer("urllib.request", urlretrieve=_calls_real("urllib.request", "urlretrieve"))
_defer("cached_property", cached_property=functools.cached_property)
_defer("whoosh.lang.morph_en", variations=_calls_real("whoosh.lang.morph_en", "variations"))
