"""Start one WebDriver session: Debian's headless shell or full Chromium, or a remote WebDriver
endpoint. A local browser's queries take the DevTools line straight to its page
(scraper.devtools); a remote one's, WebDriver.

Every local browser carries its owner (scraper.owner.Owner) in its environment, and keeps every
temporary file (its profile, Chromium's own directories) in one directory marked with that
owner, so what a dead worker left behind can be found, and nothing else.
"""
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import urllib.request

import psutil
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
from selenium.webdriver.remote.client_config import ClientConfig

from scraper.devtools import DevToolsPage
from scraper.errors import PoolTimeout
from scraper.owner import OWNER_ENV, make_browser_dir

log = logging.getLogger("searchaddr.pool")

# A process in one of these states answers nothing: the browser cannot serve.
UNUSABLE = frozenset({psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD, psutil.STATUS_STOPPED,
                      psutil.STATUS_TRACING_STOP})
CHROMIUM_LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chromium-launcher")
PR_SET_PDEATHSIG = 1
# Debian's chromium-headless-shell: the binary itself (/usr/bin/chromium-headless-shell is a
# script that keeps a shell between chromedriver and the browser).
CHROMIUM = "/usr/lib/chromium/chromium-headless-shell"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How a query reaches the page: "devtools", straight to a local browser's page (a remote one
# has no such line here and uses WebDriver), or "webdriver", through chromedriver or the Grid.
LINES = ("devtools", "webdriver")

CHROMIUM_FLAGS = (
    "--headless=new",
    # Root in containers and CI cannot use Chromium's setuid/namespace sandbox; see README "Security".
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    # The machine's network is closed: background fetches only add failures and latency.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1024,768",
    # Memory (docs/memory.md, measured one switch at a time): the one site we visit needs one
    # renderer, and no spare one kept for a next site; the omnibox popup is a WebUI renderer
    # nobody sees headless; the network service can live in the browser process; no SwiftShader
    # (--disable-gpu paints in software anyway). chromedriver merges its own --disable-features.
    "--renderer-process-limit=1",
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process,PreloadTopChromeWebUI,"
    "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
    "--enable-features=NetworkServiceInProcess2",
    "--disable-software-rasterizer",
    # V8 keeps every script it compiled, by its text, until memory runs short: every index file
    # the page read (and each WebDriver script), garbage a busy renderer never collected
    # (docs/memory.md, the lean flags). The page compiles each file once: the cache saves nothing.
    "--js-flags=--no-compilation-cache",
)
# Switches of CHROMIUM_FLAGS the headless shell does not have: it is headless without a switch,
# and has no first run, sync, extensions, component updater or background fetches (none of these
# names is in its binary). The address bar's features it lacks are ignored in --disable-features.
FULL_BROWSER_ONLY = frozenset({"--headless", "--no-first-run", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--disable-extensions"})


class Driver(webdriver.Remote):
    """A WebDriver session whose queries may take the DevTools line to its page: run_async() is
    execute_async_script, on that line once open_page_line() has opened it."""

    page = None                 # the DevToolsPage, or None: queries go through WebDriver
    script_timeout = None       # seconds: the session's script timeout, kept for that line too

    @property
    def line(self):
        return "webdriver" if self.page is None else "devtools"

    def open_page_line(self):
        """From now on queries go straight to the page (a local browser: its DevTools address
        is on this machine). WebDriverException when the page cannot be reached."""
        self.script_timeout = self.capabilities["timeouts"]["script"] / 1000
        address = self.capabilities["goog:chromeOptions"]["debuggerAddress"]
        # chromedriver names each window by its DevTools target id.
        self.page = DevToolsPage(address, self.current_window_handle)

    def set_script_timeout(self, time_to_wait):
        super().set_script_timeout(time_to_wait)
        self.script_timeout = time_to_wait

    def run_async(self, script, *args):
        """One round trip: execute_async_script(script, *args), on the page's own line if open."""
        if self.page is None:
            return self.execute_async_script(script, *args)
        return self.page.run_async(script, args, self.script_timeout)

    def close_page_line(self):
        if self.page is not None:
            self.page.close()

    def quit(self):
        self.close_page_line()
        super().quit()


class Browser:
    """A WebDriver session plus what must be cleaned up after it."""

    def __init__(self, driver, temp_dir=None, service=None, client_config=None):
        self.driver = driver
        # The directory that holds every temporary file of this browser (its TMPDIR).
        self.temp_dir = temp_dir
        self.service = service
        # Selenium's client settings for this session: its timeout bounds each command's HTTP
        # round trip, the only bound on a remote browser that stops answering.
        self.client_config = client_config
        self.command_timeout = client_config.timeout if client_config is not None else None
        self.uses = 0
        self.script_timeout = None
        self.page_load_timeout = None
        # Why the source page is not loaded (None: it is); set by the pool.
        self.page_error = None
        # True once the pool's start of it is done (with or without the source page).
        self.launched = False
        self.processes = _local_processes(service)
        # Set by the pool: the use at which it is replaced, and its replacement while that starts.
        self.recycle_at = None
        self.successor = None
        # Set by the pool's watchdog when it killed this browser for overrunning its deadline.
        self.hung = False
        # Set by the pool when it let this browser go: it never serves again.
        self.retired = False

    @property
    def remote(self):
        """A Grid's (or another WebDriver endpoint's) browser: no process of it runs here."""
        return self.service is None

    @property
    def line(self):
        """How its queries reach the page: "devtools" or "webdriver"."""
        return self.driver.line

    def limit_commands(self, seconds=None):
        """Each command's HTTP round trip ends after `seconds` (None: the session's usual limit)."""
        if self.client_config is not None:
            self.client_config.timeout = self.command_timeout if seconds is None else seconds

    def alive(self):
        """For a local browser: chromedriver and chromium both run, none stopped (no round trip)."""
        try:
            return all(p.status() not in UNUSABLE for p in self.processes)
        except psutil.Error:
            return False

    def responsive(self):
        """alive(), and no process of the whole tree (renderers too) stopped or dead: a slower
        check, for a browser that just let a command time out."""
        try:
            tree = self.processes[:1] + self.processes[0].children(recursive=True) if self.processes else []
            return self.alive() and all(p.status() not in UNUSABLE for p in tree)
        except (psutil.Error, IndexError):
            return False

    def kill(self):
        """SIGKILL chromedriver, chromium and every descendant (a stopped process too). Waits for
        nothing but chromedriver, our child; its files stay (remove_files())."""
        tree = list(self.processes)
        for process in self.processes[:1]:
            try:
                tree.extend(process.children(recursive=True))
            except psutil.Error:
                pass
        for process in tree:
            try:
                process.kill()
            except psutil.Error:
                pass
        if self.driver is not None:
            self.driver.close_page_line()       # wakes a query still waiting on it
        if self.service is not None and self.service.process is not None:
            try:
                self.service.process.wait(5)       # chromedriver is our child: no zombie left
            except Exception:
                pass

    def remove_files(self):
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def quit(self):
        """The polite way: ask chromedriver to close the browser (bounded by the command timeout)."""
        try:
            self.driver.quit()
        finally:
            if self.service is not None:
                self.service.stop()
            self.remove_files()

    def end(self):
        """Politely when it can answer, and always for a remote one (only its end can close it;
        the command timeout bounds the wait); a local hung or stopped one is killed at once (a
        polite quit would wait for it). Either way nothing of it is left here."""
        if self.remote or (not self.hung and self.alive()):
            try:
                self.quit()
            except Exception as error:      # a dead browser cannot quit politely
                log.info("browser quit failed: %s", error)
        self.kill()
        self.remove_files()


def _die_with_parent():
    """In chromedriver's child process before exec: be killed when the starting thread ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _local_processes(service):
    """chromedriver and its direct children (the chromium browser process)."""
    if service is None or service.process is None:
        return []
    try:
        driver = psutil.Process(service.process.pid)
        return [driver] + driver.children()
    except psutil.Error:
        return []


def is_headless_shell(chromium):
    return "headless-shell" in os.path.basename(chromium)


def read_chromium_version(chromium):
    """'156.0.8078.114' for the local Chromium binary `chromium`, or "unknown"."""
    try:
        output = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                                timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"\d+(\.\d+){3}", output)
    return match.group(0) if match else "unknown"


def chromium_flags(chromium):
    """CHROMIUM_FLAGS, less the full browser's own switches for the headless shell."""
    if not is_headless_shell(chromium):
        return CHROMIUM_FLAGS
    return tuple(flag for flag in CHROMIUM_FLAGS if flag.partition("=")[0] not in FULL_BROWSER_ONLY)


def chromium_options(chromium, binary_location=None):
    """Options for the binary `chromium`, started as `binary_location` (default: itself). No
    --user-data-dir: with one, chromedriver finds no page in the headless shell; without, it
    makes a profile under TMPDIR."""
    options = webdriver.ChromeOptions()
    for flag in chromium_flags(chromium):
        options.add_argument(flag)
    if binary_location or chromium:
        options.binary_location = binary_location or chromium
    return options


def _open_page_line(driver):
    """The DevTools line to the page, or WebDriver (said in the log) if the page cannot be reached."""
    try:
        driver.open_page_line()
    except (WebDriverException, KeyError, TypeError) as error:
        log.warning("no DevTools line to the page; queries go through WebDriver: %s",
                    getattr(error, "msg", None) or error)


def _check_ready(remote_url, timeout):
    """Answer busy at once when a Grid has no free slot: it would queue the new session and
    retry it only every 15 s by default, long after the request that wanted it gave up."""
    try:
        with urllib.request.urlopen(remote_url.rstrip("/") + "/status", timeout=timeout) as answer:
            ready = json.load(answer).get("value", {}).get("ready")
    except (OSError, ValueError, AttributeError) as error:
        raise WebDriverException(f"the WebDriver endpoint {remote_url} did not answer its status: "
                                 f"{error}") from None
    if ready is not True:     # a Grid says so when every slot is busy, or no node is up
        raise PoolTimeout(f"the WebDriver endpoint {remote_url} has no free browser")


def start_browser(chromium=CHROMIUM, chromedriver=CHROMEDRIVER,
                  remote_url=None, command_timeout=30, start_timeout=30, owner=None, line=LINES[0]):
    """Start a browser. Paths are always explicit so Selenium Manager never downloads anything.

    A local browser dies with the thread that started it: call this from a long-lived thread.
    `command_timeout` bounds every WebDriver command (Selenium's own default is 120 s), so a
    stopped browser or Grid cannot hold a caller longer; `start_timeout` bounds the new session.
    `owner`: an Owner, for the reaper. `line`: one of LINES, for a local browser.
    """
    if remote_url:
        _check_ready(remote_url, command_timeout)
        config = ClientConfig(remote_server_addr=remote_url, timeout=start_timeout)
        driver = Driver(command_executor=remote_url, client_config=config,
                        options=chromium_options(chromium))
        config.timeout = command_timeout
        return Browser(driver, client_config=config)
    for path in (chromium, chromedriver):
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"not an executable: {path}")
    marker = owner.marker() if owner is not None else ""
    temp_dir = make_browser_dir(marker)
    # chromedriver's profile and Chromium's org.chromium.Chromium.* go under TMPDIR: in temp_dir.
    env = dict(os.environ, SEARCHADDR_CHROMIUM=chromium, TMPDIR=temp_dir)
    if owner is not None:
        env[OWNER_ENV] = marker
    if not os.access(env.get("HOME", "/nonexistent"), os.W_OK):
        env["HOME"] = temp_dir      # Chromium's crashpad dies without a writable HOME
    # A session of its own: a terminal's Ctrl-C (SIGINT to the foreground process group) reaches
    # the service, which quits its browsers, and not the browsers themselves.
    service = Service(executable_path=chromedriver, env=env,
                      popen_kw={"preexec_fn": _die_with_parent, "start_new_session": True})
    try:
        service.start()
        # webdriver.Chrome would talk to chromedriver with a fixed 120 s timeout per command.
        config = ClientConfig(remote_server_addr=service.service_url, timeout=start_timeout)
        executor = ChromiumRemoteConnection(remote_server_addr=service.service_url,
                                            vendor_prefix="goog", browser_name="chrome",
                                            client_config=config)
        driver = Driver(command_executor=executor, options=chromium_options(chromium, CHROMIUM_LAUNCHER))
        config.timeout = command_timeout
        if line == "devtools":
            _open_page_line(driver)
    except BaseException:
        failed = Browser(None, temp_dir, service)
        failed.kill()
        failed.remove_files()
        raise
    return Browser(driver, temp_dir, service, client_config=config)
