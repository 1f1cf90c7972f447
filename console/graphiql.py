"""GraphiQL over the app's own npm copies of React and GraphiQL, instead of Strawberry's CDN page."""

from __future__ import annotations

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>carecore GraphiQL</title>
  <link rel="stylesheet" href="/console/assets/graphiql.min.css">
  <link rel="stylesheet" href="/console/static/graphiql.css">
  <script src="/console/assets/react.production.min.js" defer></script>
  <script src="/console/assets/react-dom.production.min.js" defer></script>
  <script src="/console/assets/graphiql.min.js" defer></script>
  <script src="/console/static/graphiql.js" defer></script>
</head>
<body><div id="graphiql">Loading GraphiQL…</div></body>
</html>
"""

# GraphiQL's React components set style attributes, so styles may be inline here; scripts may not.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"})
