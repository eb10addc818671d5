"""The reusable local web server (clinicpress.serve.server) against a real client on 127.0.0.1, and the
preview's renderer messages through pickle (the way they cross the socket pair)."""
from __future__ import annotations

import http.client
import os
import pickle
import socket
import time
from pathlib import Path

import pytest

from clinicpress.errors import Finding, Problem
from clinicpress.render.raster import Image
from clinicpress.serve.preview.messages import Check, Checked, Failed, Item, Loaded, Reload, Render, Rendered, View
from clinicpress.serve.server import HOST, PAGE_CSP, LocalServer, Route, Routes


@pytest.fixture
def site(tmp_path: Path):
    """A page folder with static files, a project-like folder with files, and a secret beside them."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "page.css").write_text("body { color: black }")
    (static / "notes.txt").write_text("not a static type")
    (static / ".hidden.css").write_text("hidden")
    root = tmp_path / "project"
    (root / "content").mkdir(parents=True)
    (root / "content" / "a.yml").write_text("title: A\n")
    (root / "content" / ".secret.yml").write_text("no\n")
    (root / "other").mkdir()
    (root / "other" / "b.txt").write_text("not served")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", root / "content" / "link.txt")
    return tmp_path


@pytest.fixture
def start():
    """Starts LocalServers on a free port; closes them after the test."""
    started: list[LocalServer] = []

    def make(routes: Routes, **kw) -> LocalServer:
        server = LocalServer(0, routes, title="test page", software="TestServer", **kw)
        started.append(server)
        server.start("test-http")
        return server

    yield make
    for server in started:
        server.close()


def _routes(site: Path) -> Routes:
    routes = Routes()
    routes.get("/", lambda req: req.send_html("<p>hello</p>"))
    routes.get("/echo/*", lambda req: req.send_json({"rest": req.rest, "q": req.param("q"), "none": req.param("x")}))
    routes.get("/static/*", lambda req: req.send_static(req.rest, [site / "static"]))
    routes.get("/files/*", lambda req: req.send_file_below((site / "project").resolve(), req.rest, ("content",)))
    return routes


def _get(server: LocalServer, path: str, *, method: str = "GET", headers: dict | None = None, body=None):
    conn = http.client.HTTPConnection(HOST, server.server_port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_a_registered_route_answers_with_the_security_headers(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/")
    assert response.status == 200 and body == b"<p>hello</p>"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["Server"].startswith("TestServer")


def test_a_prefix_route_gets_the_rest_of_the_path_and_the_query(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/echo/a/b%20c.png?q=1&q=2")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "Content-Security-Policy" not in response.headers  # only HTML pages carry the CSP
    assert body == b'{"rest": "a/b c.png", "q": "1", "none": null}'


def test_head_answers_the_headers_of_get_without_a_body(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.headers["Content-Length"] == str(len(b"<p>hello</p>"))


def test_an_unknown_path_is_404_with_a_way_back(site, start):
    server = start(_routes(site))
    for path in ("/nope", "/echo", "/static", "/index.html"):
        response, body = _get(server, path)
        assert response.status == 404, path
        assert b"nothing here" in body and b"Back to the test page" in body
        assert response.headers["Content-Security-Policy"] == PAGE_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_served_from_the_folder_by_type(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/static/page.css")
    assert response.status == 200 and body == b"body { color: black }"
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert _get(server, "/static/notes.txt")[0].status == 404  # not a type a page needs


@pytest.mark.parametrize("path", ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                                  "/static/.hidden.css", "/static/sub/page.css", "/static/%2fetc%2fpasswd"])
def test_path_traversal_to_static_files_is_refused(site, start, path):
    server = start(_routes(site))
    response, body = _get(server, path)
    assert response.status == 404, path
    assert b"secret" not in body


def test_files_below_a_root_only_in_the_allowed_folders(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/files/content/a.yml")
    assert response.status == 200 and body == b"title: A\n"
    for path in ("/files/content/../other/b.txt", "/files/other/b.txt", "/files/content/%2e%2e/%2e%2e/secret.txt",
                 "/files/content/.secret.yml", "/files/content/link.txt", "/files//etc/passwd", "/files/"):
        response, body = _get(server, path)
        assert response.status == 404, path
        assert b"secret" not in body and b"not served" not in body, path
    response, body = _get(server, "/files/content/missing.yml")
    assert response.status == 404 and b"file not found" in body


def test_a_request_for_another_host_is_refused(site, start):
    server = start(_routes(site))
    response, body = _get(server, "/", headers={"Host": "attacker.example"})
    assert response.status == 421
    assert body == f"wrong host: open the test page at http://127.0.0.1:{server.server_port}/\n".encode()
    assert _get(server, "/", headers={"Host": f"localhost:{server.server_port}"})[0].status == 200


def test_methods_without_routes_are_not_implemented_and_post_routes_answer(site, start):
    server = start(_routes(site))
    assert _get(server, "/", method="POST", body=b"x")[0].status == 501
    assert _get(server, "/", method="DELETE")[0].status == 501

    routes = _routes(site)
    received = []

    def take(req) -> None:
        received.append(req.rfile.read(int(req.headers["Content-Length"])))
        req.send_json({"ok": True})

    routes.post("/api/print", take)
    desk = start(routes)
    response, body = _get(desk, "/api/print", method="POST", body=b"job-1")
    assert response.status == 200 and body == b'{"ok": true}' and received == [b"job-1"]
    assert _get(desk, "/api/print")[0].status == 404  # GET has no such route
    assert _get(desk, "/elsewhere", method="POST", body=b"")[0].status == 404


@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.168.1.10", "localhost", "::"])
def test_it_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        LocalServer(0, Routes(), host=host)


def test_it_listens_on_loopback_and_a_taken_port_raises(start):
    server = start(Routes())
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.server_port}/"
    with pytest.raises(OSError):
        LocalServer(server.server_port, Routes())


def test_requests_are_logged_only_when_verbose(site, start, capfd):
    quiet = start(_routes(site))
    _get(quiet, "/")
    assert "GET / HTTP" not in capfd.readouterr().err
    loud = start(_routes(site), verbose=True)
    _get(loud, "/")
    err, deadline = "", time.monotonic() + 5  # the line is written once the answer is sent: poll
    while '"GET / HTTP/1.1" 200' not in err and time.monotonic() < deadline:
        time.sleep(0.02)
        err += capfd.readouterr().err
    assert '"GET / HTTP/1.1" 200' in err


def test_an_event_stream_sends_its_blocks(start):
    routes = Routes()

    def events(req) -> None:
        req.begin_events()
        req.write_event(retry=1000)
        req.write_event("7")
        req.write_event(comment="still here")

    routes.get("/events", events)
    server = start(routes)
    response, body = _get(server, "/events")
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert body == b"retry: 1000\n\ndata: 7\n\n: still here\n\n"


def test_close_stops_answering(site):
    server = LocalServer(0, _routes(site))
    server.start()
    port = server.server_port
    assert _get(server, "/")[0].status == 200
    server.close()
    with pytest.raises(OSError), socket.create_connection((HOST, port), timeout=2):
        pass


def test_an_unstarted_server_closes_without_waiting():
    LocalServer(0, Routes()).close()


def test_route_patterns_match_exact_paths_and_prefixes():
    def noop(req) -> None:
        return None

    exact, prefix = Route("GET", "/api/state", noop), Route("GET", "/img/*", noop)
    assert exact.match("GET", "/api/state") == "" and exact.match("GET", "/api/state/x") is None
    assert exact.match("POST", "/api/state") is None
    assert prefix.match("GET", "/img/a/1/2.png") == "a/1/2.png" and prefix.match("GET", "/img/") == ""
    assert prefix.match("GET", "/img") is None
    routes = Routes()
    routes.get("/a/*", noop)
    routes.get("/a/b", noop)
    found = routes.find("GET", "/a/b")
    assert found is not None and found[0].pattern == "/a/*"  # first added wins
    assert routes.methods() == {"GET"}


# --------------------------------------------------------------------------- the renderer's messages
def _view() -> View:
    return View(rev=0, pages=(Image(b"\x89PNG...", 10, 20),), note=None, html=b"<html></html>",
                files={"pdf": b"%PDF"}, findings=(Finding("layout.overflow", "warning", "too long", "deck.yml", 3),),
                rendered_at=1.5, seconds=0.25)


@pytest.mark.parametrize("message", [
    Reload(), Reload(["content/handouts/a.yml", "templates/handout/base.html.j2"]), Render("gut.es"), Check(),
    Loaded([Item("gut", "handout", "Gut", "en", "content/handouts/gut.yml", "handout:gut")], {"gut": "abc123"},
           [Problem("practices/x/practice.yml", 4, None, "phone", "looks odd", severity="warning")], "Summit"),
    Rendered(_view()),
    Checked({"handout:gut": [Finding("readability.fkgl", "error", "grade 11")], "practice:x": []}),
    Failed([Problem("content/handouts/gut.yml", 3, 2, None, "bad indentation", "indent with spaces")]),
    Failed([Problem("(preview)", message="internal error")], "Traceback (most recent call last): ..."),
])
def test_messages_round_trip_through_pickle(message):
    again = pickle.loads(pickle.dumps(message))
    assert again == message and type(again) is type(message)


def test_requests_name_their_task():
    assert (Reload().task, Render("x").task, Check().task) == ("load", "render", "check")
    assert pickle.loads(pickle.dumps(Render("x"))).task == "render"
    assert Reload().changed == [] and Failed([]).traceback is None


def test_a_page_that_hangs_up_ends_its_event_stream_quietly(start, capfd):
    """The handler's next write raises BrokenPipeError (its loop ends); nothing is printed."""
    import threading
    import time

    ended, wrote = threading.Event(), []
    routes = Routes()

    def events(req) -> None:
        req.begin_events()
        try:
            for i in range(400):
                req.write_event(str(i))
                wrote.append(i)
                time.sleep(0.025)
        except BrokenPipeError:
            ended.set()
            raise

    routes.get("/events", events)
    server = start(routes)
    conn = http.client.HTTPConnection(HOST, server.server_port, timeout=10)
    conn.request("GET", "/events")
    sock = conn.sock
    response = conn.getresponse()
    assert response.read(8) == b"data: 0\n"
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    response.close()
    assert ended.wait(5), f"the stream kept writing ({len(wrote)} events)"
    assert len(wrote) < 100
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err


def test_a_client_that_resets_mid_request_prints_nothing_and_the_server_goes_on(site, start, capfd):
    import struct
    import time

    server = start(_routes(site))
    for partial in (b"GET / HTTP/1.1\r\nHost: 127.0.0.1", b"GET /static/page.css HTTP/1.1\r\n"):
        sock = socket.create_connection((HOST, server.server_port), timeout=5)
        sock.sendall(partial)
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        sock.close()
    time.sleep(0.5)
    assert _get(server, "/")[0].status == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err, err
