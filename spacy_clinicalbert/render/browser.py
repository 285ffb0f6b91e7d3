"""Open rendered pages in a real headless Chromium (Selenium + the Debian `chromium` and
`chromium-driver` packages): what the browser tests and the README screenshots use.

Chromium is started with a new empty profile and without the services that call home
(sync, component updates, background networking, QUIC): on a machine without network
they otherwise stall start-up. Selenium is the `browser` extra; Selenium Manager is never
asked to download a driver, the Debian one is named explicitly.
"""
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


class BrowserMissing(RuntimeError):
    """Chromium, chromedriver or Selenium is not installed; the message says how to get it."""


def _first(paths, env: str) -> Optional[str]:
    value = os.environ.get(env)
    if value:
        return value
    for path in paths:
        if Path(path).exists():
            return path
    return None


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator:
    """A Selenium Chrome driver on headless Chromium, closed (and its profile removed) after."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as err:
        raise BrowserMissing("Selenium is not installed: pip install 'spacy-clinicalbert[browser]'"
                             ) from err
    binary = _first(CHROMIUM_CANDIDATES, "CHROMIUM_BINARY")
    driver_path = _first(DRIVER_CANDIDATES, "CHROMEDRIVER")
    if not binary or not driver_path:
        raise BrowserMissing("Chromium or chromedriver not found (set CHROMIUM_BINARY / "
                             "CHROMEDRIVER, or: apt-get install -y chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path, timeout: float = 20.0) -> None:
    """Load a local page and wait until its script has run (body[data-ready])."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.body.getAttribute('data-ready')") == "1"
    )


def console_errors(driver) -> List[str]:
    """Console messages at level SEVERE since the last call (JS errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver, path: Path, element=None) -> Path:
    """A PNG of the page (or of one element), made by Chromium itself."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if element is not None:
        # The sticky page header would cover the element's top once it is scrolled to.
        driver.execute_script(
            "document.querySelectorAll('header.page').forEach(function(h){"
            "h.style.position='static';});arguments[0].scrollIntoView();", element)
        element.screenshot(str(path))
    else:
        driver.save_screenshot(str(path))
    return path
