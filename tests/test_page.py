"""The search page: served files, and a real headless Chromium typing a question and following a citation."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import SAMPLE

from api.http import create_app
from api.serve import running_server
from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "api" / "static"
ARTIFACTS = ROOT / "artifacts"
HOSTILE = '<img src=x onerror="window.__pwned=1">防城港口岸'
QUESTION = "昆明承接产业转移的核心承载区是哪里？"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    engine = Engine(tmp_path_factory.mktemp("page-data"), EmbedderSpec("hash", "256"))
    engine.ingest_paths([SAMPLE])
    engine.ingest_items([Article("fcg/1", "<script>window.__pwned=2</script>防城港口岸边境贸易持续增长。", HOSTILE,
                                 "2024-08-08", "广西<b>新闻</b>网", "javascript:window.__pwned=3")])
    with running_server(create_app(engine, mcp=False)) as url:
        yield url


@pytest.fixture(scope="module")
def real_url(real_engine_with_sample):
    """A server over the sample article with the real model, so that the page shows a real cited answer."""
    with running_server(create_app(real_engine_with_sample, mcp=False, warm_model=False)) as url:
        yield url


def test_page_and_static_files(base_url):
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/app.js"' in page.text and 'lang="zh-CN"' in page.text
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        r = httpx.get(f"{base_url}/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    for path in ("/static/nope.js", "/static/..%2Fserve.py", "/static/.hidden.css", "/static/index.py"):
        r = httpx.get(f"{base_url}{path}")
        assert r.status_code == 404 and "detail" in r.json(), path


def test_script_never_writes_html():
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)


def test_typography():
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    for font in ("PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei"):
        assert font in css
    assert "line-height: 1.8" in css


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    missing = [p for p in (chromium, driver) if not Path(p).is_file()]
    if missing:
        reason = f"needs headless Chromium and chromedriver ({', '.join(missing)} missing; "
        reason += "apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI installs them, so their absence is a broken setup")
        pytest.skip(reason)
    return chromium, driver


@pytest.fixture
def browser(tmp_path):
    chromium, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1500", "--lang=zh-CN"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.slow
def test_ask_in_the_browser(real_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{real_url}/")
    wait.until(lambda d: "已收录" in d.find_element(By.ID, "footer").text)
    box = browser.find_element(By.ID, "q")
    box.send_keys(QUESTION, Keys.ENTER)

    wait.until(ec.visibility_of_element_located((By.ID, "answer-text")))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-text a.cite"))
    answer = browser.find_element(By.ID, "answer-text").text
    assert "磨憨" in answer and "[1]" in answer
    first = browser.find_element(By.CSS_SELECTOR, "#citations > li")
    assert first.get_attribute("id") == "cite-1"
    assert "抢抓机遇协调发展" in first.text and "昆明信息港" in first.text
    assert first.find_elements(By.TAG_NAME, "mark"), "query terms are highlighted in the quote"

    link = browser.find_element(By.CSS_SELECTOR, "#answer-text a.cite")
    target = link.get_attribute("data-n")
    link.click()
    wait.until(lambda d: "flash" in d.find_element(By.ID, f"cite-{target}").get_attribute("class"))
    assert "mode=ask" in browser.current_url and "q=" in browser.current_url

    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "page-ask.png"))
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_search_mode_filters_and_escaping(base_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(f"{base_url}/?mode=search&q=防城港口岸&source=广西")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#hits > li"))
    hits = browser.find_elements(By.CSS_SELECTOR, "#hits > li")
    assert len(hits) == 1
    assert HOSTILE in hits[0].text and "<script>" in hits[0].text  # shown as text, not markup
    assert hits[0].find_elements(By.TAG_NAME, "mark")
    assert not hits[0].find_elements(By.TAG_NAME, "img") and not hits[0].find_elements(By.TAG_NAME, "a")
    assert browser.execute_script("return window.__pwned === undefined")

    until = browser.find_element(By.ID, "until")
    until.clear()
    until.send_keys("someday")
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda d: "出错了" in d.find_element(By.ID, "status").text)
    assert "date filter" in browser.find_element(By.ID, "status").text
