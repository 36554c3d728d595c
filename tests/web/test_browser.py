"""`seedmusic serve` driven by a real browser (Debian's chromium through Playwright) and by
`gradio_client`, with the shipped checkpoints: generate a song, analyze a recording, edit bars,
see bad input as one message in the page, and never let the page reach beyond localhost.

Screenshots go to `$SEEDMUSIC_TEST_ARTIFACTS/web` (default `out/test-artifacts/web`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import soundfile as sf

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("gradio_client")

from seedmusic.web.launch import start_server  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("web")]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MAX_UPLOAD_SECONDS = 20
MAX_UPLOAD_MB = 2
WORK_TIMEOUT_MS = 300_000
"""Generating or editing a song on two busy CPU cores takes up to a few minutes."""
SHORT_LYRICS = "[verse]\nthe sun is on the hill\nand all the birds are still"
LOCAL_HOSTS = {"127.0.0.1", "localhost", None}


@dataclass
class Server:
    url: str
    workdir: Path
    process: subprocess.Popen[str]
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("serve")
    process, url = start_server(
        "--workdir",
        str(workdir),
        "--max-upload-seconds",
        str(MAX_UPLOAD_SECONDS),
        "--max-upload-mb",
        str(MAX_UPLOAD_MB),
    )
    yield Server(url, workdir, process)
    process.terminate()
    process.wait(timeout=60)
    assert not list(workdir.glob("seedmusic-serve-*")), "the server left its workspace behind"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make setup`"
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("SEEDMUSIC_TEST_ARTIFACTS", REPO / "out" / "test-artifacts"))
    folder = folder / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(browser: object, server: Server) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 1400})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("request", lambda request: server.requests.append(request.url))
    page.goto(server.url)
    page.get_by_role("button", name="Generate", exact=True).wait_for()
    return page


def _tone(path: Path, seconds: float) -> Path:
    rate = 24_000
    t = np.arange(int(seconds * rate)) / rate
    notes = 220.0 * 2 ** (np.floor(t * 2) % 8 / 12)  # a new pitch every half second
    wave = 0.3 * np.sin(2 * np.pi * np.cumsum(notes) / rate) * np.exp(-4 * (t % 0.5))
    sf.write(str(path), wave, rate, subtype="PCM_16")
    return path


def _message(page: object, text: str) -> None:
    """Wait for the page to show a message containing `text`."""
    page.get_by_text(re.compile(re.escape(text))).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]


def _dismiss_messages(page: object) -> None:
    for close in page.locator(".toast-close").all():  # type: ignore[attr-defined]
        close.click()


def test_generate_and_edit_a_song_in_the_browser(
    server: Server, browser: object, artifacts: Path
) -> None:
    page = _page(browser, server)
    page.get_by_label("Lyrics").fill(SHORT_LYRICS)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator("#generate-song audio[src]").first.wait_for(
        state="attached", timeout=WORK_TIMEOUT_MS
    )
    page.locator("#generate-score img").first.wait_for(timeout=30_000)
    for stem in ("vocal", "accompaniment"):
        page.locator(f"#generate-{stem} audio[src]").first.wait_for(
            state="attached", timeout=30_000
        )
    downloads = page.locator("#generate-downloads").inner_text().replace("\n", "")
    for name in ("song.wav", "score.mid", "score.musicxml", "score.json"):
        assert name in downloads
    assert "neural renderer" in page.locator("#generate-readout").inner_text()
    page.screenshot(path=str(artifacts / "generate.png"), full_page=True)

    page.get_by_role("tab", name="Edit").click()
    assert "generated" in page.locator("#edit-current").inner_text()
    page.locator("#edit-first input").fill("3")
    page.locator("#edit-last input").fill("4")
    page.get_by_role("radio", name="transpose").check()
    page.locator("#edit-value textarea, #edit-value input").first.fill("2")
    page.get_by_role("button", name="Re-render the bars", exact=True).click()
    page.locator("#edit-after audio[src]").first.wait_for(state="attached", timeout=WORK_TIMEOUT_MS)
    page.locator("#edit-ab img").first.wait_for(timeout=30_000)
    message = page.locator("#edit-message").inner_text()
    assert re.search(r"Re-rendered bars? 3", message), message
    assert "sample for sample" in message
    page.locator("#edit-before audio[src]").first.wait_for(state="attached")
    page.screenshot(path=str(artifacts / "edit.png"), full_page=True)
    _assert_local(server)


def test_analyze_a_recording_in_the_browser(
    server: Server, browser: object, artifacts: Path, tmp_path: Path
) -> None:
    page = _page(browser, server)
    page.get_by_role("tab", name="Analyze").click()
    page.locator("#analyze-upload input[type=file]").set_input_files(
        str(_tone(tmp_path / "take.wav", 8.0))
    )
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.locator("#analyze-score img").first.wait_for(timeout=WORK_TIMEOUT_MS)
    readout = page.locator("#analyze-readout").inner_text()
    assert "tempo" in readout and "key" in readout
    assert "analysis.json" in page.locator("#analyze-downloads").inner_text().replace("\n", "")
    page.screenshot(path=str(artifacts / "analyze.png"), full_page=True)
    page.get_by_role("tab", name="Edit").click()
    assert "take.wav" in page.locator("#edit-current").inner_text()
    _assert_local(server)
    sessions = set(server.workdir.glob("seedmusic-serve-*/session-*"))
    page.context.close()
    deadline = time.monotonic() + 120
    while set(server.workdir.glob("seedmusic-serve-*/session-*")) == sessions:
        assert time.monotonic() < deadline, "closing the page did not remove its session's files"
        time.sleep(1)


def test_bad_input_is_one_message_and_the_server_keeps_serving(
    server: Server, browser: object, artifacts: Path, tmp_path: Path
) -> None:
    page = _page(browser, server)
    page.get_by_label("Lyrics").fill("")
    page.get_by_role("button", name="Generate", exact=True).click()
    _message(page, "the lyrics are empty")
    _dismiss_messages(page)

    page.get_by_label("Lyrics").fill(SHORT_LYRICS)
    page.get_by_label("Style").fill("pop, dubstepz")
    page.get_by_role("button", name="Generate", exact=True).click()
    _message(page, "unknown style 'dubstepz'")
    page.screenshot(path=str(artifacts / "error.png"), full_page=True)
    _dismiss_messages(page)

    page.get_by_role("tab", name="Analyze").click()
    upload = page.locator("#analyze-upload input[type=file]")
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are my notes, not a recording\n" * 20)
    upload.set_input_files(str(not_audio))
    page.get_by_role("button", name="Analyze", exact=True).click()
    _message(page, "notes.wav is not audio")
    _dismiss_messages(page)

    page.locator("#analyze-upload button[aria-label='Clear']").first.click()
    upload.set_input_files(str(_tone(tmp_path / "long.wav", MAX_UPLOAD_SECONDS + 5)))
    page.get_by_role("button", name="Analyze", exact=True).click()
    _message(page, f"recordings are limited to {MAX_UPLOAD_SECONDS} s")
    _dismiss_messages(page)

    page.get_by_role("tab", name="Edit").click()
    assert "No song yet" in page.locator("#edit-current").inner_text()
    page.get_by_role("button", name="Re-render the bars", exact=True).click()
    _message(page, "no song yet")  # this tab does not see the other tabs' songs
    assert "Traceback" not in page.content()
    assert server.process.poll() is None
    with urllib.request.urlopen(server.url, timeout=30) as response:
        assert response.status == 200
    _assert_local(server)


def test_oversized_upload_is_refused_in_the_page(
    server: Server, browser: object, tmp_path: Path
) -> None:
    page = _page(browser, server)
    page.get_by_role("tab", name="Analyze").click()
    big = tmp_path / "big.wav"
    rate = 48_000
    frames = int(MAX_UPLOAD_MB * 1e6 / 8) + rate  # 2 channels of 4-byte floats
    sf.write(str(big), np.zeros((frames, 2)), rate, subtype="FLOAT")
    page.locator("#analyze-upload input[type=file]").set_input_files(str(big))
    _message(page, "exceed the maximum allowed size")
    assert server.process.poll() is None


def test_endpoints_through_gradio_client(server: Server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False)
    api = client.view_api(print_info=False, return_format="dict")
    assert {"/generate", "/analyze", "/edit", "/load_recording"} <= set(api["named_endpoints"])
    with pytest.raises(Exception, match="lyrics are empty"):
        client.predict(
            lyrics="",
            style="pop",
            tempo=0,
            key="model's choice",
            meter="model's choice",
            prompt="",
            seed=0,
            renderer="neural",
            adherence=False,
            api_name="/generate",
        )
    result = client.predict(
        upload=handle_file(str(_tone(tmp_path / "take.wav", 6.0))),
        lyrics="",
        notes=False,
        encoding="xval",
        language="en",
        api_name="/analyze",
    )
    readout, downloads = result[0], result[2]
    assert "tempo" in readout
    tokens = next(Path(_client_path(item)) for item in downloads if "tokens" in _client_path(item))
    assert json.loads(tokens.read_text())["encoding"] == "xval"
    with pytest.raises(Exception, match="between 1 and"):
        client.predict(first=2, last=1, operation="transpose", value="2", api_name="/edit")


def _client_path(item: object) -> str:
    """A file output as `gradio_client` returns it (a path, or a dict holding one)."""
    return str(item["path"] if isinstance(item, dict) else item)


def _assert_local(server: Server) -> None:
    outside = [url for url in server.requests if urlparse(url).hostname not in LOCAL_HOSTS]
    assert not outside, f"the page made requests outside localhost: {outside[:5]}"
