"""Take the README's screenshots of `seedmusic serve` (docs/web-*.png) in Debian's chromium.

    .venv/bin/python scripts/web_screenshots.py            # starts a server on a free port
    .venv/bin/python scripts/web_screenshots.py --url http://127.0.0.1:7860

Generates the example song in the Generate tab, transposes two of its bars in the Edit tab and
analyzes the song in the Analyze tab, screenshotting each tab after its work is done.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from seedmusic.web.launch import start_server

REPO = Path(__file__).resolve().parents[1]
WIDTH = 1280
SAVED_WIDTH = 1000
TIMEOUT_MS = 600_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running server (default: start one)")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server, url = start_server()
    try:
        _shoot(url, args.out)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)


def _shoot(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 1200})
        page.goto(url)
        page.get_by_role("button", name="Generate", exact=True).click()
        page.locator("#generate-song audio[src]").first.wait_for(
            state="attached", timeout=TIMEOUT_MS
        )
        page.locator("#generate-score img").first.wait_for()
        _save(page, out / "web-generate.png")
        page.get_by_role("tab", name="Edit").click()
        page.locator("#edit-first input").fill("5")
        page.locator("#edit-last input").fill("6")
        page.get_by_role("button", name="Re-render the bars", exact=True).click()
        page.locator("#edit-ab img").first.wait_for(timeout=TIMEOUT_MS)
        _save(page, out / "web-edit.png")
        song = _download(page, "#edit-downloads", "song.wav")
        page.get_by_role("tab", name="Analyze").click()
        page.locator("#analyze-upload input[type=file]").set_input_files(str(song))
        page.get_by_role("button", name="Analyze", exact=True).click()
        page.locator("#analyze-score img").first.wait_for(timeout=TIMEOUT_MS)
        _save(page, out / "web-analyze.png")
        browser.close()


def _download(page: Page, files: str, name: str) -> Path:
    """Download the first file listed in `files` (the song's WAV) as `name`."""
    with page.expect_download() as download:
        page.locator(f"{files} a").filter(has_text=re.compile(r"\d")).first.click()
    path = Path(tempfile.mkdtemp()) / name
    download.value.save_as(path)
    return path


def _save(page: Page, path: Path) -> None:
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as shot:
        height = round(shot.height * SAVED_WIDTH / shot.width)
        small = shot.convert("RGB").resize((SAVED_WIDTH, height), Image.LANCZOS)
        small.quantize(colors=128).save(path, optimize=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
