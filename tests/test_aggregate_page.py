"""The search page shows a corpus-wide answer as a list and a timeline by month (headless Chromium)."""

from __future__ import annotations

import pytest
from test_page import _browser_paths

from api.http import create_app
from api.serve import running_server
from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine

ARTICLES = [
    Article("p1", "云岭星河新能源科技有限公司正式落户磨憨。寻甸特色产业园区引进了宏达钢构。", "甲", "2024-01-15", "测试"),
    Article("p2", "今年以来，磨憨招商成效明显。蓝湾物流、曙光医疗等12家企业相继入驻磨憨。", "乙", "2024-06-18", "测试"),
    Article("p3", "因市场原因，青松化工已撤出磨憨。", "丙", "2025-05-01", "测试"),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    engine = Engine(tmp_path_factory.mktemp("agg-page"), EmbedderSpec("hash", "64"))
    engine.ingest_items(ARTICLES)
    with running_server(create_app(engine, mcp=False)) as base:
        yield base


@pytest.fixture
def browser(tmp_path):
    chromium, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1500", "--lang=zh-CN"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_corpus_wide_list_and_timeline(url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{url}/?mode=ask&q=哪些企业落地磨憨？")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cw-timeline > li"))
    months = [(li.get_attribute("data-month"), int(li.get_attribute("data-count")))
              for li in browser.find_elements(By.CSS_SELECTOR, "#cw-timeline > li")]
    assert months == [("2024-01", 1), ("2024-06", 2), ("2025-05", 1)]
    rows = browser.find_elements(By.CSS_SELECTOR, "#cw-items > tr")
    names = [r.find_element(By.CSS_SELECTOR, ".cw-name").text for r in rows]
    assert names == ["云岭星河新能源科技有限公司", "蓝湾物流", "曙光医疗", "青松化工"]
    assert "撤出" in rows[-1].text and "status-withdrawn" in rows[-1].get_attribute("class")
    assert "3 项来自 2 篇文章" in browser.find_element(By.ID, "cw-summary").text
    link = rows[1].find_element(By.CSS_SELECTOR, "a.cite")
    target = link.get_attribute("data-n")
    link.click()
    WebDriverWait(browser, 10).until(lambda d: "flash" in d.find_element(By.ID, f"cite-{target}").get_attribute("class"))
    assert "蓝湾物流" in browser.find_element(By.ID, f"cite-{target}").text
    assert not browser.find_elements(By.CSS_SELECTOR, "#answer-items > li")
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
