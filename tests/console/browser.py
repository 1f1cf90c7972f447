"""A real browser for the console's journeys: Playwright driving Debian's chromium (no browser download).

The project's set-up installs the `chromium` and `fonts-nanum` packages with apt when missing; Playwright is told
its path. Screenshots go to .artifacts/browser/ (gitignored), where a person can look at them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "browser"
CHROMIUM = Path(os.environ.get("CARECORE_CHROMIUM", "/usr/bin/chromium"))
NANUM = Path("/usr/share/fonts/truetype/nanum")  # Korean glyphs: without them screenshots show boxes


def ensure_chromium() -> Path:
    """Debian's chromium, and a Korean font for its screenshots, installed with apt-get on first use."""
    wanted = {"chromium": CHROMIUM.exists(), "fonts-nanum": NANUM.is_dir()}
    missing = [package for package, present in wanted.items() if not present]
    if not missing:
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError(f"{', '.join(missing)} missing and there is no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    subprocess.run([apt, "install", "-y", "-qq", *missing], check=True, env=env, stdin=subprocess.DEVNULL, timeout=900)
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is not there")
    return CHROMIUM


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    path = ensure_chromium()
    async with async_playwright() as playwright:
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        browser = await playwright.chromium.launch(executable_path=str(path), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


async def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core (served by the app from its npm copy) on the page as it is: serious and critical findings."""
    await page.add_script_tag(url="/console/assets/axe.min.js")
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/console/signin")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/now")
