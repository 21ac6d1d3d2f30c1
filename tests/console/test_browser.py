"""Headless Chromium (Debian's, through chromedriver) drives intake → case → fleet → dashboard.

Screenshots land in the test's folder; with ODFIX_SCREENSHOTS=1 they are also copied to
docs/console-*.png (how the committed ones were made).
"""

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from console_fleet import simulate
from console_kit import FIXTURES, LiveServer, prepare
from sqlalchemy import Engine, select

from odfix.console.db import Case, sessions

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1280,900")


@pytest.fixture(params=["sqlite"])
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("chromium and chromium-driver are absent (apt-get install chromium "
                    "chromium-driver; .ci/run installs them, so CI never skips)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver: object, tmp_path: Path, name: str) -> None:
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(900, int(height) + 40), 4000))
    path = tmp_path / f"console-{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 10_000
    driver.set_window_size(1280, 900)
    if os.environ.get("ODFIX_SCREENSHOTS") == "1":
        shutil.copy(path, DOCS / path.name)


def _follow(driver: object, element: object) -> None:
    """Click and wait until the next page replaced this one and finished loading.

    While Chromium swaps documents, asking about the old page's element can fail with
    "Node with given id does not belong to the document" (a plain WebDriverException, not the
    stale-element one Selenium's ``staleness_of`` expects): that too means the page is gone.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(driver, WebDriver) and isinstance(element, WebElement)
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_: object) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:  # stale, or a node of a document being replaced
            return True
        return False

    WebDriverWait(driver, 60).until(replaced)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def test_intake_case_fleet_dashboard(browser: object, engine: Engine, db_url: str,
                                     tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    assert isinstance(driver, WebDriver)
    app, password = prepare(engine, db_url)
    server = LiveServer(app)
    try:
        find = driver.find_element
        driver.get(server.url + "/dashboard")  # anonymous: sent to sign in
        assert "/login" in driver.current_url
        find(By.ID, "password").send_keys(password)
        _follow(driver, find(By.CSS_SELECTOR, "form[action='/login/local'] button"))
        assert driver.current_url.endswith("/dashboard")

        # intake: the zip a user sent
        driver.get(server.url + "/intake")
        find(By.ID, "ticket").send_keys("INC-1042")
        find(By.ID, "upn").send_keys("ada.lovelace@contoso.example")
        find(By.ID, "error_code").send_keys("0x8004de40")
        find(By.ID, "bundle").send_keys(str(FIXTURES / "bundles" / "collected_pc0001.zip"))
        _follow(driver, find(By.CSS_SELECTOR, "form[action='/intake'] button[type=submit]"))
        assert find(By.TAG_NAME, "h1").text.startswith("Diagnosis:")
        assert driver.find_elements(By.CSS_SELECTOR, ".cite")  # cited evidence lines
        note = find(By.ID, "ticket-note").get_attribute("value") or ""
        assert "Cause: " in note and f"({server.url}/kb#" in note  # the ticket note
        copy = find(By.CSS_SELECTOR, "button[data-copy='ticket-note']")
        copy.click()
        WebDriverWait(driver, 10).until(lambda _: copy.text == "Copied")
        _shot(driver, tmp_path, "diagnosis")
        find(By.PARTIAL_LINK_TEXT, "KB section")  # the plan links the KB article
        case_link = find(By.CSS_SELECTOR, "a[href^='/cases/']")
        _follow(driver, case_link)
        assert "INC-1042" in find(By.TAG_NAME, "h1").text
        assert find(By.ID, "ticket-note").get_attribute("value") == note
        with sessions(engine)() as db:
            case = db.scalars(select(Case)).one()

        # fleet: a site and its enrolment token, made by the lead in the page
        driver.get(server.url + "/fleet")
        find(By.ID, "site-name").send_keys("Berlin")
        _follow(driver, find(By.CSS_SELECTOR, "form[action='/fleet/sites'] button"))
        Select(find(By.ID, "token-site")).select_by_visible_text("Berlin")
        find(By.ID, "token-label").send_keys("Intune remediation")
        _follow(driver, find(By.CSS_SELECTOR, "form[action='/fleet/tokens'] button"))
        token = find(By.ID, "new-token").get_attribute("value")
        assert token and token.startswith("odfx_")
        now = datetime.now(UTC)
        reports = sorted(simulate(160, devices=120, seed=7, end=now),
                         key=lambda r: r["ended_at"])
        this_pc = {"schema": "odfix.fleet-report/1", "run_id": "pc0001-fix", "source": "cli",
                   "kind": "fix", "device_id": case.device_id, "device_name": "PC-0001",
                   "user": "ada.lovelace@contoso.example", "join_type": case.join_type,
                   "cause": case.cause, "methods": [{"method": "credential-cleanup",
                                                     "outcome": "fixed"}],
                   "verdict": "fixed", "exit_code": 0, "started_at": now.isoformat(),
                   "ended_at": now.isoformat(), "odfix_version": "0.test"}
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for start in range(0, len(reports), 200):
                assert http.post("/api/v1/reports",
                                 json=reports[start:start + 200]).status_code == 200
            assert http.post("/api/v1/reports", json=this_pc).status_code == 201
        driver.get(server.url + "/fleet")
        assert "pc0001-fix" in driver.page_source
        _shot(driver, tmp_path, "fleet")
        driver.get(f"{server.url}/cases/{case.id}")
        assert "fixed" in find(By.TAG_NAME, "h1").text
        _shot(driver, tmp_path, "case")

        # dashboard: per cause and method, recurrences, clones, weekly trend
        driver.get(server.url + "/dashboard")
        assert len(driver.find_elements(By.TAG_NAME, "svg")) >= 5
        assert "stale-token-password-change" in driver.page_source
        _shot(driver, tmp_path, "dashboard")
        driver.get(server.url + "/cases")
        _shot(driver, tmp_path, "cases")
    finally:
        server.stop()
