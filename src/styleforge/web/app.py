"""The explorer's HTTP side (`styleforge serve`): an ASGI app (FastAPI) with one static page and a
small JSON / PNG API over `Explorer`. No request value ever becomes a file path; every input is
bounded and a bad one gets a 4xx JSON {"error": ...}. An image URL is a pure function of the view:
with `model=` (the page adds the model's tag) the browser may keep it for good; without, it revalidates
by ETag. `Server-Timing: render;dur=…` says how long the model took."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..errors import StyleforgeError
from .explorer import MAX_UPLOAD_BYTES, THUMBNAIL_SIZES, Explorer, ModelChanged, NotFound, bounded_number

STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/app.js": ("app.js", "text/javascript"),
          "/style.css": ("style.css", "text/css")}


def _static_files() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once from the package (the URL only selects among these three)."""
    folder = resources.files("styleforge.web") / "static"
    return {url: ((folder / name).read_bytes(), kind) for url, (name, kind) in STATIC.items()}


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(explorer: Explorer) -> FastAPI:
    """The ASGI app for one explorer (one model)."""
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        explorer.close()

    app = FastAPI(title="styleforge explorer", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    files = _static_files()

    def static(url: str):
        body, kind = files[url]
        return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

    for url in STATIC:
        app.add_api_route(url, (lambda url=url: static(url)), methods=["GET"], include_in_schema=False)

    @app.exception_handler(StyleforgeError)
    async def bad_input(request: Request, exc: StyleforgeError):
        return error(404 if isinstance(exc, NotFound) else 409 if isinstance(exc, ModelChanged) else 400, str(exc))

    @app.get("/api/info")
    async def info():
        return explorer.info()

    async def _run(request: Request, function, *args, media: str = "image/png", suffix: str = ".png",
                   attachment: bool = False):
        """`function(view, *args)` on the model's worker, with cache and timing headers; an attachment
        (or `download=1`) is named after the view (seed, ψ, …) + suffix."""
        query = dict(request.query_params)
        view = explorer.view_from(query)
        tag = '"' + hashlib.sha1(f"{explorer.model_tag}|{request.url.path}|{view.key()}|{args}".encode()).hexdigest() + '"'
        # with the model's tag in the URL the answer never changes; without it, revalidate (same URL, new model)
        cache = "private, max-age=31536000, immutable" if "model" in query else "no-cache"
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag, "Cache-Control": cache})
        start = time.perf_counter()
        body = await asyncio.wrap_future(explorer.submit(function, view, *args))
        headers = {"ETag": tag, "Cache-Control": cache,
                   "Server-Timing": f"render;dur={(time.perf_counter() - start) * 1000:.1f}"}
        if attachment or query.get("download"):
            headers["Content-Disposition"] = f'attachment; filename="{view.slug()}{suffix}"'
        if media == "application/json":
            return JSONResponse(body, headers=headers)
        return Response(body, media_type=media, headers=headers)

    def _optional_int(request: Request, name: str, lo: int, hi: int) -> int | None:
        return bounded_number(dict(request.query_params), name, int, None, lo, hi)

    @app.get("/api/image")
    async def image(request: Request):
        return await _run(request, explorer.image, _optional_int(request, "size", *THUMBNAIL_SIZES))

    @app.get("/api/features")
    async def features(request: Request):  # the explorer checks the layer name and the channel's range
        return await _run(request, explorer.features, request.query_params.get("layer") or "",
                          _optional_int(request, "channel", 0, 1 << 16))

    @app.get("/api/feature-stats")
    async def feature_stats(request: Request):
        return await _run(request, explorer.feature_stats, request.query_params.get("layer") or "",
                          media="application/json")

    @app.get("/api/latent")
    async def latent(request: Request):  # the explorer checks the space
        space = request.query_params.get("space") or "wplus"
        suffix = f"-{space}.safetensors" if space in ("wplus", "s") else ".safetensors"
        return await _run(request, explorer.latent, space, media="application/octet-stream", suffix=suffix,
                          attachment=True)

    @app.post("/api/project")
    async def start_projection(request: Request):
        try:  # the range is checked by the explorer
            steps = int(request.query_params.get("steps", "200"))
        except ValueError:
            raise StyleforgeError("steps must be an integer") from None
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
            return error(413, f"upload is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB")
        data = bytearray()
        async for chunk in request.stream():  # never more than the limit in memory
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                return error(413, f"upload is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB")
        if not data:
            raise StyleforgeError("send the image file as the request body")
        job_id = await asyncio.to_thread(explorer.start_projection, bytes(data), steps)
        return {"id": job_id}

    @app.get("/api/project/{job_id}")
    async def projection_status(job_id: str):
        job = explorer.projections.get(job_id)
        if job is None:
            return error(404, f"no projection {job_id[:20]!r} on this server")
        return job.status()

    return app


__all__ = ["create_app"]
