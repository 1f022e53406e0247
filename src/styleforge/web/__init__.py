"""The local web explorer (`styleforge serve`): `Explorer` (model side) and `create_app` (ASGI).
FastAPI and uvicorn come with the `web` extra: `pip install '.[web]' (from a checkout)`."""

from .explorer import Explorer, View, parse_view

__all__ = ["Explorer", "View", "parse_view"]
