"""The explorer's HTTP side (`styleforge serve`): an ASGI app (FastAPI) with one static page and a
small JSON / PNG API over `Explorer`. No request value ever becomes a file path; every input is
bounded and a bad one gets a 4xx JSON {"error": ...}."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..errors import StyleforgeError
from .explorer import CLIENT_PATTERN, MAX_UPLOAD_BYTES, Explorer, NotFound, Superseded

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
        return error(404 if isinstance(exc, NotFound) else 400, str(exc))

    @app.get("/api/info")
    async def info():
        return explorer.info()

    def _client(query: dict) -> tuple[str | None, int | None]:
        client = query.get("client")
        if client is not None and not CLIENT_PATTERN.fullmatch(client):
            raise StyleforgeError("client must be 1-64 letters, digits, '-' or '_'")
        seq = query.get("seq")
        if seq is not None:
            try:
                seq = int(seq)
            except ValueError:
                raise StyleforgeError(f"seq must be an integer, got {seq!r}") from None
        return client, seq

    async def _run(request: Request, function, *args, cacheable: bool = True, media: str = "image/png",
                   download: str | None = None):
        query = dict(request.query_params)
        client, seq = _client(query)
        view = explorer.view_from(query)
        tag = '"' + hashlib.sha1(f"{explorer.model_tag}|{request.url.path}|{view.key()}|{args}".encode()).hexdigest() + '"'
        cacheable = cacheable and view.noise != "random" and view.projection is None
        if cacheable and request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        explorer.note_request(client, seq)
        try:
            body = await asyncio.wrap_future(explorer.submit(client, seq, function, view, *args))
        except Superseded:
            return error(409, "superseded by a newer request of this client")
        headers = {"ETag": tag, "Cache-Control": "private, max-age=3600"} if cacheable else {"Cache-Control": "no-store"}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{download}"'
        return Response(body, media_type=media, headers=headers)

    @app.get("/api/image")
    async def image(request: Request):
        return await _run(request, explorer.image)

    @app.get("/api/features")
    async def features(request: Request):  # the explorer checks the layer name
        return await _run(request, explorer.features, request.query_params.get("layer") or "")

    @app.get("/api/latent")
    async def latent(request: Request):  # the explorer checks the space
        space = request.query_params.get("space") or "wplus"
        return await _run(request, explorer.latent, space, media="application/octet-stream",
                          download=f"latent-{space[:8]}.safetensors")

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
