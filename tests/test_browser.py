"""End to end in a real browser: `streamlit run app.py` on a loopback port, driven by headless Chromium.

Uses Debian's /usr/bin/chromium through Playwright (no browser download);
`bash scripts/install-browser.sh` installs it. The screenshot is written to
$LEGALQA_SCREENSHOT, or else to .legalqa/screenshots/showcase.png (the path is printed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_app import REPO, SHOWCASE, build_session_index

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / ".legalqa" / "screenshots" / "showcase.png"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: run `bash scripts/install-browser.sh`"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not listen on 127.0.0.1:{port} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = build_session_index(tmp_path_factory)
    port = free_port()
    env = os.environ | {"LEGALQA_HOME": str(home), "LEGALQA_INDEX": str(home / "index")}
    for name in ("LEGALQA_CORPUS", "LEGALQA_MODEL"):
        env.pop(name, None)
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]
    with open(log, "wb") as out:
        # Its own process group, so the server and anything it starts are killed together.
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port, proc)
            yield f"http://127.0.0.1:{port}", started
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def ask(page, question: str, count: int, timeout_ms: int = 60_000) -> float:
    """Type a question, wait until the count-th answer is on the page; return the seconds it took."""
    box = page.locator("[data-testid=stChatInput] textarea")
    box.wait_for(timeout=timeout_ms)
    t0 = time.perf_counter()
    box.fill(question)
    box.press("Enter")
    page.locator("[data-testid=stChatMessage]").nth(2 * count - 1).locator("[data-testid=stHtml]").first.wait_for(
        timeout=timeout_ms
    )
    page.wait_for_function("() => !document.querySelector('[data-testid=stSpinner]')", timeout=timeout_ms)
    return time.perf_counter() - t0


def test_showcase_question_in_a_real_browser(server, browser):
    url, started = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    first = ask(page, SHOWCASE, 1)
    cold = time.perf_counter() - started
    answer = page.locator("[data-testid=stChatMessage]").nth(1)
    text = answer.inner_text()
    assert "第六百八十八条" in text
    marked = answer.locator("mark").all_inner_texts()
    assert any(q.startswith("连带责任保证的债务人不履行到期债务") for q in marked), marked  # the 688 quote
    source = answer.locator("[data-testid=stExpander]", has_text="第六百八十八条").first
    assert source.locator("summary").is_visible()
    shot = Path(os.environ.get("LEGALQA_SCREENSHOT") or SCREENSHOT)
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # A second question reloads nothing: the process's cached index and model answer it.
    warm = ask(page, "连带责任保证是什么意思？<script>alert(1)</script>[点我](javascript:alert(1))", 2)
    assert page.locator("script:has-text('alert(1)')").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert "<script>alert(1)</script>" in page.locator("[data-testid=stChatMessage]").nth(2).inner_text()
    print(f"\nscreenshot: {shot}\nserver start to first answer {cold:.1f} s (typing to answer {first:.1f} s); "
          f"second answer {warm:.2f} s")
    page.close()


def test_a_both_sides_answer_shows_two_separated_branches(server, browser):
    """Issue 14: the guarantee's form is not stated, so the page shows the law's two cases as two framed
    boxes, one under the other, each opening 「情形…：如果「…」」 with its condition quoted (highlighted, with
    its marker) and the statutes that apply in it."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    ask(page, SHOWCASE, 1)
    answer = page.locator("[data-testid=stChatMessage]").nth(1)
    boxes = answer.locator(".legalqa-branch")
    assert boxes.count() == 2
    first, second = boxes.nth(0), boxes.nth(1)
    default, joint = "当事人在保证合同中对保证方式没有约定或者约定不明确的", "当事人在保证合同中约定保证人和债务人对债务承担连带责任的"
    assert first.inner_text().startswith(f"情形一：如果「{default}」")
    assert second.inner_text().startswith(f"情形二：如果「{joint}」")
    assert first.locator("mark").first.inner_text() == default and second.locator("mark").first.inner_text() == joint
    assert "第六百八十六条第二款" in first.inner_text() and "第六百八十八条第二款" in second.inner_text()
    assert "第六百八十八条" not in first.inner_text()  # each case holds its own statutes only
    # The page may still be laying out the answer below the boxes: measure once the boxes stop moving.
    boxes_now, deadline = None, time.monotonic() + 10
    while time.monotonic() < deadline:
        measured = (first.bounding_box(), second.bounding_box())
        if measured == boxes_now:
            break
        boxes_now = measured
        time.sleep(0.3)
    top, bottom = boxes_now
    assert top["y"] + top["height"] <= bottom["y"]  # one box under the other, not overlapping
    assert all(float(b.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)")) > 0 for b in (first, second))
    page.close()


def test_a_foreign_law_question_declines_and_a_named_article_is_quoted_whole(server, browser):
    """Session 9: another country's law is declined with the reason on the page; an article asked about by
    name is quoted with all its 款, both marked."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    ask(page, "法国的劳动法规定每周工作多少小时？", 1)
    declined = page.locator("[data-testid=stChatMessage]").nth(1)
    assert "问的是法国的法律" in declined.inner_text() and declined.locator("mark").count() == 0
    ask(page, "民法典第六百八十八条是怎么规定的？", 2)
    answer = page.locator("[data-testid=stChatMessage]").nth(3)
    (quote,) = answer.locator(".legalqa-answer mark").all_inner_texts()
    assert quote.startswith("当事人在保证合同中约定保证人和债务人对债务承担连带责任的") and "在其保证范围内承担保证责任" in quote
    assert "第六百八十八条第一款" not in answer.inner_text()  # cited as the article, not as its first 款
    page.close()


def test_evaluation_tab_scores_the_sample_answers_file(server, browser):
    """Issue 17: upload eval/examples/answers.jsonl on the page, wait for the progress to finish,
    and see every planted error listed under its answer."""
    import json

    url, _ = server
    expected = json.loads((REPO / "eval" / "examples" / "answers.expected.json").read_text(encoding="utf-8"))
    planted = {qid: sorted({f["category"] for f in found}) for qid, found in expected["answers"].items() if found}
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{url}/eval")
    page.get_by_text("评测任何系统的回答").click()
    uploader = page.locator("[data-testid=stFileUploader]").first
    uploader.locator("input[type=file]").set_input_files(str(REPO / "eval" / "examples" / "answers.jsonl"))
    page.get_by_role("button", name="评测上传的文件").click()
    heading = page.get_by_text("有问题的回答（")
    heading.wait_for(timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stSpinner]')", timeout=120_000)
    assert page.get_by_text(f"有问题的回答（{len(planted)} / {len(expected['answers'])}）").count() == 1
    from legalqa.eval.answers import CATEGORY_LABELS

    # An expander's summary reads "<icon name> id：category labels（question）". The list streams in: wait for it.
    def summaries() -> list[str]:
        return [t.split("\n")[-1].strip() for t in page.locator("[data-testid=stExpander] summary").all_inner_texts()]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(any(t.startswith(f"{q}：") for t in summaries()) for q in planted):
        time.sleep(0.5)
    labels = summaries()
    for qid, categories in planted.items():
        label = next((t for t in labels if t.startswith(f"{qid}：")), None)
        assert label is not None, (qid, labels)
        assert all(CATEGORY_LABELS[c] in label for c in categories), (label, categories)
    clean = [qid for qid, found in expected["answers"].items() if not found]
    assert not any(t.startswith(f"{qid}：") for qid in clean for t in labels)
    page.close()
