"""The dashboard in a real browser: Debian's headless Chromium driven by
chromium-driver over WebDriver (HTTP on loopback, python3's urllib only).

  dashboard_browser.py URL NODES KILL_PID KILL_ADDRESS SCREENSHOT -- JOB...

Loads URL (the head's dashboard), checks that it lists NODES nodes alive
and the errors of the three failed tasks run before (function fail),
starts JOB and checks that the tasks-finished counter rises while it runs
(then saves a screenshot to SCREENSHOT unless it is '-'), kills KILL_PID
with SIGKILL and checks that the node at KILL_ADDRESS is shown dead; at the
end the browser's console must hold no error. Every wait is bounded;
chromedriver, Chromium and the job are stopped on every exit.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

WAIT_S = 30  # the longest any one condition is waited for


class Fail(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class WebDriver:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.sid = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as f:
                return json.load(f)["value"]
        except urllib.error.HTTPError as e:
            raise Fail("WebDriver %s %s: %s" % (method, path, e.read()[:500]))

    def session(self, user_data_dir):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": shutil.which("chromium") or "/usr/bin/chromium",
                # As root on a server: no sandbox; no profile of the user's.
                "args": ["--headless=new", "--no-sandbox",
                         "--disable-dev-shm-usage",
                         "--user-data-dir=" + user_data_dir,
                         "--window-size=1200,860"]},
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def s(self, path):
        return "/session/%s%s" % (self.sid, path)

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def js(self, script):
        return self.call("POST", self.s("/execute/sync"),
                         {"script": script, "args": []})

    def console(self):
        return self.call("POST", self.s("/se/log"), {"type": "browser"})

    def screenshot(self):
        return base64.b64decode(self.call("GET", self.s("/screenshot")))

    def quit(self):
        if self.sid:
            try:
                self.call("DELETE", "/session/" + self.sid)
            except Exception:
                pass
            self.sid = None


def wait_for(what, fn):
    """fn() until it returns a true value, at most WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise Fail("%s: not within %d s (last: %r)" % (what, WAIT_S, last))


NODE_ROWS = """
return Array.from(document.querySelectorAll('#nodes tbody tr[data-node]'))
  .map(tr => [tr.children[1].textContent, tr.dataset.state, tr.children[2].textContent]);
"""
FINISHED = "return document.getElementById('total-finished').textContent;"


def finished(wd):
    text = wd.js(FINISHED).replace(",", "")
    return int(text) if text.isdigit() else None


def run(wd, url, nodes, kill_pid, kill_address, shot, job):
    wd.go(url)
    title = wd.js("return document.title;")
    if title != "manta dashboard":
        raise Fail("the page at %s is %r, not the dashboard" % (url, title))
    rows = wait_for("%d nodes alive on the page" % nodes, lambda: (
        lambda r: r if sum(1 for x in r if x[1] == "alive" and x[2] != "driver") == nodes else None)(wd.js(NODE_ROWS)))
    print("browser test: the page lists the nodes:", rows)
    if not any(r[0] == kill_address for r in rows):
        raise Fail("%s is not on the page: %r" % (kill_address, rows))
    errors = wait_for("the failed tasks in the errors table", lambda: (
        lambda t: t if t.count("function fail") >= 3 else None)(
            wd.js("return document.querySelector('#errors tbody').textContent;")))
    if "failed on purpose" not in errors:
        raise Fail("the errors table lacks the message: %r" % errors[:300])
    print("browser test: the errors table shows the failed tasks")
    before = wait_for("a task count on the page", lambda: finished(wd) is not None and [finished(wd)])[0]
    proc = subprocess.Popen(job, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        seen = [before]

        def rose_twice():
            n = finished(wd)
            if n is not None and n > seen[-1]:
                seen.append(n)
            return len(seen) >= 3

        wait_for("tasks finished rising while the job runs", rose_twice)
        print("browser test: tasks finished rose while the job ran:", seen)
        if shot != "-":
            with open(shot, "wb") as f:
                f.write(wd.screenshot())
            print("browser test: screenshot in", shot)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    os.kill(kill_pid, signal.SIGKILL)
    wait_for("%s shown dead after kill -9" % kill_address, lambda: any(
        r[0] == kill_address and r[1] == "dead" for r in wd.js(NODE_ROWS)))
    print("browser test: the killed node is shown dead")
    cls = wd.js("return document.querySelector('#nodes tr[data-state=dead] td:nth-child(4)').className;")
    if cls != "state-dead":
        raise Fail("the dead node's state is not marked (%r)" % cls)
    errors = [e for e in wd.console() if e.get("level") == "SEVERE"]
    if errors:
        raise Fail("console errors: %r" % errors)
    print("browser test: no console errors")


def main(argv):
    if "--" not in argv or argv.index("--") != 6:
        print(__doc__, file=sys.stderr)
        return 2
    url, nodes, kill_pid, kill_address, shot = argv[1:6]
    job = argv[7:]
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            print("browser test: %s is missing (bash scripts/install-deps.sh "
                  "installs it)" % tool, file=sys.stderr)
            return 1
    profile = tempfile.mkdtemp(prefix="manta-chromium-")
    port = free_port()
    driver = subprocess.Popen(
        ["chromedriver", "--port=%d" % port, "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    wd = WebDriver(port)
    try:
        wait_for("chromedriver answering", lambda: _status(wd))
        wd.session(profile)
        run(wd, url, int(nodes), int(kill_pid), kill_address, shot, job)
        print("browser test: PASS")
        return 0
    except Fail as e:
        print("FAIL: browser test: %s" % e, file=sys.stderr)
        return 1
    finally:
        wd.quit()
        # chromedriver and every Chromium process it started: one group.
        try:
            os.killpg(driver.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        driver.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _status(wd):
    try:
        return wd.call("GET", "/status").get("ready")
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv))
