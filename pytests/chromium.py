"""Headless Chromium for the browser tests, driven with the standard library.

Chromium speaks the DevTools protocol over a pipe (--remote-debugging-pipe:
JSON messages ended by NUL, commands on fd 3, replies and events on fd 4), so
no port is opened and no websocket package is needed. A local HTTP server
(LoggingServer) serves the pages and records every path asked for.

Chromium is Debian's `chromium` package; `make browser` (a prerequisite of
`make test`) installs it when it is missing and we are root, and so does
ensure_chromium() for a bare `pytest` run.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# Schemes that never leave the machine.
LOCAL_SCHEMES = frozenset({"data", "about", "blob"})


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM, else the first one on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_chromium() -> str | None:
    """Find Chromium; when missing and we are root on Debian, install it."""
    found = find_chromium()
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=environment, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "chromium"],
        check=True,
        env=environment,
        capture_output=True,
    )
    return find_chromium()


def is_local_url(url: str) -> bool:
    """True for URLs that stay on this machine (loopback HTTP, data:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


class ProtocolError(Exception):
    """Chromium answered a command with an error, or stopped answering."""


class Chromium:
    """One headless Chromium process with its own fresh profile folder."""

    def __init__(self, executable: str, user_data_dir: Path, log_path: Path) -> None:
        self.executable = executable
        self.user_data_dir = user_data_dir
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        self._to_browser = -1
        self._from_browser = -1

    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        self.user_data_dir.mkdir(parents=True, exist_ok=True)
        command_read, command_write = os.pipe()
        reply_read, reply_write = os.pipe()

        def pipes_on_fd_3_and_4() -> None:  # runs in the child, before exec
            command, reply = os.dup(command_read), os.dup(reply_write)
            os.dup2(command, 3)
            os.dup2(reply, 4)

        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [self.executable, *FLAGS, f"--user-data-dir={self.user_data_dir}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=pipes_on_fd_3_and_4,
                pass_fds=(3, 4),
            )
        os.close(command_read)
        os.close(reply_write)
        self._to_browser, self._from_browser = command_write, reply_read

    def close(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProtocolError, OSError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for descriptor in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        self.process = None

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode("utf-8") + b"\0")
        return self._next_id

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str = "",
        timeout: float = 30,
    ) -> dict[str, Any]:
        """Send a command and wait for its reply; events met meanwhile are kept."""
        message_id = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == message_id:
                if "error" in message:
                    raise ProtocolError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while True:
                message = self._receive(deadline)
                if "method" in message:
                    self.events.append(message)

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ProtocolError(f"Chromium exited; see {self.log_path}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def new_page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        return page


@dataclass
class Page:
    """A tab, attached with its own DevTools session."""

    browser: Chromium
    session: str

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [
            event["params"]
            for event in self.browser.events
            if event.get("sessionId") == self.session and event.get("method") == method
        ]

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for (documents, scripts, fetches, fonts,
        images, websockets), as the Network domain saw them."""
        urls = [params["request"]["url"] for params in self._events("Network.requestWillBeSent")]
        urls += [params["url"] for params in self._events("Network.webSocketCreated")]
        return urls

    def console_errors(self) -> list[str]:
        return [
            " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
            for params in self._events("Runtime.consoleAPICalled")
            if params.get("type") == "error"
        ] + [
            params["exceptionDetails"].get("text", "")
            + " "
            + str(params["exceptionDetails"].get("exception", {}).get("description", ""))
            for params in self._events("Runtime.exceptionThrown")
        ]

    def navigate(self, url: str, timeout: float = 30) -> None:
        loads_before = len(self._events("Page.loadEventFired"))
        result = self.browser.call("Page.navigate", {"url": url}, session=self.session)
        if result.get("errorText"):
            raise ProtocolError(f"cannot open {url}: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while len(self._events("Page.loadEventFired")) == loads_before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            self.browser.pump(0.1)

    def evaluate(self, expression: str) -> Any:
        result = self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate until the expression is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            self.browser.pump(0.2)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.browser.call("Page.captureScreenshot", params, session=self.session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@dataclass
class LoggingServer:
    """A static HTTP server on 127.0.0.1 (a free port) that records requests."""

    directory: Path
    requests: list[str] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @contextlib.contextmanager
    def running(self) -> Iterator[LoggingServer]:
        requests = self.requests
        directory = str(self.directory)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=10)
