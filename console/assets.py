"""Browser assets from npm (tools/web, pinned with its lockfile), served by the app: no CDN anywhere."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ROOT = Path(__file__).resolve().parent.parent
WEB_TOOLS = ROOT / "tools" / "web"
NODE_MODULES = WEB_TOOLS / "node_modules"

# Only these files are served, under these names; everything else in node_modules stays private.
VENDOR: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "axe.min.js": "axe-core/axe.min.js",
}


async def vendor_asset(request: Request) -> Response:
    relative = VENDOR.get(request.path_params["name"])
    if relative is None:
        return PlainTextResponse("Not found.", status_code=404)
    path = NODE_MODULES / relative
    if not path.is_file():
        # A deployment must run `npm ci` in tools/web; `make dev` and the tests do it themselves.
        return PlainTextResponse(f"{relative} is not installed: run npm ci in tools/web.", status_code=503)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
