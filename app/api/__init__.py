"""The JSON API. The application lives in `app.api.app`; importing this package loads no routers, so that
services may use `app.api.errors`, `app.api.common` and `app.api.deps` without an import cycle."""


def __getattr__(name: str):
    if name in ("api_app", "create_api_app"):
        from app.api import app as module

        return getattr(module, name)
    raise AttributeError(name)
