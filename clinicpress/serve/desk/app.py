"""The print desk's routes on the server core, and `desk`, the `desk` command.

GET  /                       the page (a fresh print token in it each load)
GET  /static/<file>          its stylesheet and script (templates/desk/)
GET  /thumb/<slug>.png       page one of a handout      ?lang=es&variant=large-print
GET  /pages/<slug>           how many pages it has      (same query)
GET  /page/<slug>/<n>.png    page n of it               (same query)
POST /api/packet             JSON {token, items, lang, variant, patient: {name, note, next_visit, clinician}}
                             → the packet PDF (inline), or 400 with {problems: [...]}

The packet is made in memory and sent; nothing about the patient is kept, logged or written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import Problem, UsageError, UserError
from ..core import HOST, MAX_BODY, bind, local_app, serve_app
from .library import Library

PAGE_DIR = Path(__file__).resolve().parents[3] / "templates" / "desk"
"""The page's own template and static files, in the tool's templates folder."""
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


def _problem_json(problems: list[Problem]) -> list[dict]:
    return [{"field": p.field or "", "message": p.message, "hint": p.hint or ""} for p in problems]


class DeskRoutes:
    def __init__(self, library: Library, *, verbose: bool = False):
        self.library = library
        self.verbose = verbose
        import jinja2

        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(PAGE_DIR)), autoescape=True, undefined=jinja2.StrictUndefined
        )

    def routes(self) -> list:
        from starlette.routing import Route

        return [
            Route("/", self.page, methods=["GET"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/brand.css", self.brand, methods=["GET"]),
            Route("/thumb/{slug}.png", self.thumb, methods=["GET"]),
            Route("/pages/{slug}", self.pages, methods=["GET"]),
            Route("/page/{slug}/{n:int}.png", self.page_image, methods=["GET"]),
            Route("/api/packet", self.packet, methods=["POST"]),
        ]

    # ------------------------------------------------------------------ page and files
    def page(self, request) -> Any:
        from starlette.responses import HTMLResponse

        self.library.refresh()
        data = self.library.catalogue()
        html = self.env.get_template("index.html.j2").render(
            data=data,
            data_json=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
            token=self.library.new_token(),
            limits=_limits(),
        )
        return HTMLResponse(html)

    def static(self, request) -> Any:
        from starlette.responses import PlainTextResponse, Response

        name = request.path_params["name"]
        path = PAGE_DIR / name
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return Response(path.read_bytes(), media_type=STATIC_TYPES[path.suffix])

    def brand(self, request) -> Any:
        """The practice's primary colour and the text colour on it (checked hex values) for the page."""
        from starlette.responses import Response

        from ...render.handout import css_variables

        values = css_variables(self.library.project.practices[self.library.practice].theme, True)
        css = f":root {{ --brand: {values['c-primary']}; --brand-ink: {values['c-on-primary']}; }}\n"
        return Response(css, media_type="text/css; charset=utf-8")

    def _pictures(self, request, *, thumb: bool) -> list | None:
        lang = request.query_params.get("lang", "en")
        variant = request.query_params.get("variant", "standard")
        try:
            return self.library.images(request.path_params["slug"], lang, variant, thumb=thumb)
        except KeyError:
            return None

    def thumb(self, request) -> Any:
        from starlette.responses import PlainTextResponse, Response

        images = self._pictures(request, thumb=True)
        if not images:
            return PlainTextResponse("not found", status_code=404)
        return Response(images[0].png, media_type="image/png", headers={"cache-control": "private, max-age=60"})

    def pages(self, request) -> Any:
        from starlette.responses import JSONResponse

        images = self._pictures(request, thumb=False)
        if images is None:
            return JSONResponse({"error": "no such handout"}, status_code=404)
        return JSONResponse({"pages": len(images), "sizes": [[i.width, i.height] for i in images]})

    def page_image(self, request) -> Any:
        from starlette.responses import PlainTextResponse, Response

        images = self._pictures(request, thumb=False)
        n = request.path_params["n"]
        if not images or not 1 <= n <= len(images):
            return PlainTextResponse("not found", status_code=404)
        return Response(images[n - 1].png, media_type="image/png", headers={"cache-control": "private, max-age=60"})

    # ------------------------------------------------------------------ the packet
    async def packet(self, request) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse, Response

        from ...packet import default_name, packet_day
        from ...render.packet import Patient

        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"problems": [{"message": "send the print form as JSON"}]}, status_code=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"problems": [{"message": "the print form could not be read"}]}, status_code=400)
        if not isinstance(body, dict) or not self.library.token_ok(body.get("token")):
            return JSONResponse(
                {"problems": [{"message": "this page is out of date", "hint": "reload the page and print again"}]},
                status_code=403,
            )
        items, lang, variant = body.get("items"), body.get("lang"), body.get("variant")
        fields = body.get("patient") or {}
        if (
            not isinstance(items, list)
            or not all(isinstance(i, str) for i in items)
            or not isinstance(lang, str)
            or not isinstance(variant, str)
            or not isinstance(fields, dict)
            or not all(isinstance(fields.get(k, ""), str) for k in ("name", "note", "next_visit", "clinician"))
        ):
            return JSONResponse({"problems": [{"message": "the print form is incomplete"}]}, status_code=400)
        patient = Patient.typed(**{k: fields.get(k, "") for k in ("name", "note", "next_visit", "clinician")})
        try:
            pdf = await run_in_threadpool(
                self.library.packet, items, lang, variant, patient if any(vars(patient).values()) else None
            )
        except UserError as exc:
            return JSONResponse({"problems": _problem_json(exc.problems)}, status_code=400)
        except Exception as exc:  # a bug: say so without the patient's words (no message, no traceback)
            import sys

            print(f"desk: internal error while printing: {type(exc).__name__}", file=sys.stderr)
            return JSONResponse({"problems": [{"message": "internal error; nothing was printed"}]}, status_code=500)
        name = default_name(self.library.practice, lang, variant, packet_day(self.library.root))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{name}"', "cache-control": "no-store"},
        )


def _limits() -> dict:
    from ...render.packet import LIMITS

    return LIMITS


def app_for(library: Library, port: int, *, verbose: bool = False) -> Any:
    return local_app(DeskRoutes(library, verbose=verbose).routes(), port=port, max_body=MAX_BODY)


def desk(root: Path, *, practice: str | None, port: int, reporter, verbose: bool = False) -> int:
    """Runs the print desk until Ctrl-C or SIGTERM; returns the exit code."""
    from ..preview.app import _chosen_practice

    root = root.resolve()
    practice = _chosen_practice(root, practice)
    sock = bind(port)
    try:
        library = Library(root, practice)
        app = app_for(library, sock.getsockname()[1], verbose=verbose)
        reporter.info(f"print desk for {practice} at http://{HOST}:{sock.getsockname()[1]}/ ; press Ctrl-C to stop")
        serve_app(app, sock, verbose=verbose)
    except OSError as exc:
        raise UsageError(Problem("desk", message=str(exc))) from None
    finally:
        sock.close()
    reporter.info("print desk stopped")
    return 0
