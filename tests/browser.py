"""Headless Chromium for the report tests, driven over the DevTools protocol on a pipe.

No Node, no websocket library, no network port: Chromium's ``--remote-debugging-pipe``
reads JSON commands on fd 3 and writes replies and events on fd 4, each message ending
in a NUL byte. :func:`find_chromium` locates Debian's ``chromium`` and, when it is missing
and we are root on a Debian-like machine, installs it with ``apt-get install -y chromium``
(what CI's fresh machine needs); otherwise the tests skip with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def find_chromium(*, install: bool = True, log: Path | None = None) -> tuple[str | None, str]:
    """The browser's path (and ``""``), or None and why it is unavailable.

    ``$TOOLKIT_CHROMIUM`` names a binary explicitly. Without one on the PATH, root on a
    machine with apt-get installs Debian's ``chromium`` (``apt-get update`` first if the
    package lists are empty); the installer's output goes to ``log``.
    """
    explicit = os.environ.get("TOOLKIT_CHROMIUM")
    if explicit:
        return (explicit, "") if Path(explicit).is_file() else (None, f"$TOOLKIT_CHROMIUM={explicit} does not exist")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found, ""
    if not install:
        return None, "chromium is not installed"
    if shutil.which("apt-get") is None:
        return None, "chromium is not installed and there is no apt-get to install it (set TOOLKIT_CHROMIUM)"
    if os.geteuid() != 0:
        return None, "chromium is not installed; installing it needs root: sudo apt-get install -y chromium"
    out = open(log, "a", encoding="utf-8") if log is not None else subprocess.DEVNULL
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        command = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], stdout=out, stderr=subprocess.STDOUT, env=env)
            if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
                return None, f"`apt-get install -y chromium` failed (see {log})"
    finally:
        if out is not subprocess.DEVNULL:
            out.close()
    found = shutil.which("chromium")
    return (found, "") if found else (None, "apt-get installed chromium but it is not on the PATH")


class BrowserError(RuntimeError):
    """Chromium exited, timed out, or answered a command with an error."""


class Chromium:
    """One headless Chromium process; :meth:`open` gives a fresh page (its own target) each time."""

    def __init__(self, executable: str, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="toolkit-chromium-")
        # our ends of two pipes; the child gets theirs as fds 3 (commands in) and 4 (replies out)
        cmd_read, self._cmd_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        child = (os.dup(cmd_read), os.dup(reply_write))
        os.close(cmd_read)
        os.close(reply_write)

        def wire() -> None:  # in the child, before exec
            os.dup2(child[0], 3)
            os.dup2(child[1], 4)

        self.stderr_path = Path(self.profile) / "chromium.log"
        with open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                            pass_fds=(3, 4, *child), preexec_fn=wire)
        os.close(child[0])
        os.close(child[1])
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its reply (events that arrive meanwhile are kept in ``events``)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._cmd_write, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == message["id"], f"a reply to {method}")
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, session: str | None = None) -> dict[str, Any]:
        """The first (kept or coming) event ``method`` of ``session``."""
        def match(m: dict[str, Any]) -> bool:
            return m.get("method") == method and (session is None or m.get("sessionId") == session)

        for i, event in enumerate(self.events):
            if match(event):
                return self.events.pop(i)
        return self._wait(match, f"the event {method}", keep=False)

    def _wait(self, match: Callable[[dict[str, Any]], bool], what: str, keep: bool = True) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if match(message):
                    return message
                if "method" in message:
                    self.events.append(message)
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no {what} within {self.timeout:.0f} s")
            ready, _, _ = select.select([self._reply_read], [], [], left)
            if ready:
                chunk = os.read(self._reply_read, 1 << 20)
                if not chunk:
                    raise BrowserError(f"chromium exited waiting for {what}; its log: {self.stderr_path}")
                self._buffer += chunk

    def open(self, url: str, *, width: int, height: int = 900, mobile: bool = False) -> Page:
        """A new page of ``width`` × ``height`` CSS pixels that has loaded ``url``."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        page.call("Network.enable")
        page.call("Page.enable")
        page.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", session)
        return page

    def close(self) -> None:
        """Quit the browser and remove its profile."""
        try:
            if self.process.poll() is None:
                self.send("Browser.close")
                self.process.wait(10)
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
        finally:
            os.close(self._cmd_write)
            os.close(self._reply_read)
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: evaluate scripts, take screenshots, list the requests it made."""

    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command in this page's session."""
        return self.browser.send(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited); a thrown error raises BrowserError."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def requests(self) -> list[str]:
        """Every URL this page requested so far (the document itself included)."""
        return [e["params"]["request"]["url"] for e in self.browser.events
                if e.get("sessionId") == self.session and e.get("method") == "Network.requestWillBeSent"]

    def remote_requests(self) -> list[str]:
        """Requests that left the machine's files: anything not file:, data:, about: or blob:."""
        return [url for url in self.requests() if not url.startswith(LOCAL_SCHEMES)]

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page (the whole page by default) written to ``path``."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 16000), "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", params)["data"]))
        return path

    def close(self) -> None:
        """Close the tab."""
        self.browser.send("Target.closeTarget", {"targetId": self.target})
