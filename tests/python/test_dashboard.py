"""The dashboard (dashboard/app.py) on the published sample.

* Streamlit's AppTest renders every page, every campaign and every channel tab with no
  exception, and the figures it shows are the marts' (KPI tiles compared value by value).
* Empty states say why (nothing published, nothing in the window), never a traceback.
* A real browser (Debian's chromium, driven by Playwright) loads each page of the running
  app: the page must show its report and no error box, and its screenshot must not be blank.
  SCREENSHOT_DIR keeps the screenshots (make screenshots writes docs/screenshots/).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from conftest import PYTHON, REPO, TALLY, dbt, load_folder, project_env, run

# Every test reads a serving file built by dbt from the sample (module fixture).
pytestmark = pytest.mark.slow

APP = REPO / "dashboard" / "app.py"
SAMPLE_VARS = '{report_as_of: "2026-11-04 06:00:00", period_start: "2026-11-02 00:00:00", period_end: "2026-11-06 00:00:00"}'
CHANNEL_TILES = {
    "email": ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "opens", "clicks"],
    "inapp": ["impressions", "unique_impressions", "interactions", "channel_reactivity"],
    "push": [
        "sent",
        "delivered",
        "delivered_rate",
        "bounces",
        "bounce_rate",
        "opens",
        "actions",
        "engagements",
        "unique_channel_clicks",
        "channel_reactivity",
    ],
    "sms": ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "clicks", "channel_reactivity"],
    "web": ["impressions", "unique_impressions", "interactions", "channel_reactivity"],
    "direct_mail": ["audience", "sent", "errors", "excluded"],
}
TAB_ORDER = ["email", "inapp", "push", "sms", "web", "direct_mail"]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("dashboard") / "warehouse.duckdb"
    load_folder(REPO / "data" / "sample", warehouse, "csv")
    dbt(["build", "--vars", SAMPLE_VARS], warehouse)
    run([*TALLY, "refresh", "--warehouse", str(warehouse), "--publish-only"])
    return warehouse.with_name("serving.duckdb")


def formatted(column: str, value: object) -> str:
    if value is None:
        return "-"
    if column.endswith(("_rate", "reactivity")):
        return f"{float(value):.1%}"
    return f"{int(value):,}"


def app_test(serving: Path, monkeypatch: pytest.MonkeyPatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SERVING_PATH", str(serving))
    return AppTest.from_file(str(APP), default_timeout=60)


def rows(serving: Path, sql: str, parameters: list | None = None) -> list[dict]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        result = con.execute(sql, parameters or [])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=False)) for row in result.fetchall()]
    finally:
        con.close()


def test_live_page_shows_the_marts_figures_for_every_campaign_and_tab(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_test(serving, monkeypatch).run()
    assert not at.exception, at.exception
    campaigns = rows(serving, "select * from marts.live_campaign_statistics order by targeted desc, campaign_id")
    assert len(campaigns) >= 5
    checked_tabs = 0
    for campaign in campaigns:
        at.selectbox(key="live_campaign").set_value(campaign["campaign_id"]).run()
        assert not at.exception, (campaign["campaign_id"], at.exception)
        labels = ["Campaign", "Email", "In-app", "Push", "SMS", "Web", "Direct mail", "Experimentation"]
        assert [tab.label for tab in at.tabs] == labels
        shown = {metric.label: metric.value for metric in at.tabs[0].metric}
        assert shown == {
            "Audience": formatted("audience", campaign["audience"]),
            "Profiles entered": formatted("profiles_entered", campaign["profiles_entered"]),
            "Actions performed": formatted("actions_performed", campaign["actions_performed"]),
            "Errors": formatted("errors", campaign["errors"]),
        }
        tiles = {
            row["channel"]: row
            for row in rows(
                serving, "select * from marts.live_channel_statistics where campaign_id = ?", [campaign["campaign_id"]]
            )
        }
        for tab, channel in zip(at.tabs[1:], TAB_ORDER, strict=False):
            if channel not in tiles:
                assert tab.info and "no" in tab.info[0].value, (campaign["campaign_id"], channel)
                continue
            shown = [metric.value for metric in tab.metric][: len(CHANNEL_TILES[channel])]
            expected = [formatted(column, tiles[channel][column]) for column in CHANNEL_TILES[channel]]
            assert shown == expected, (campaign["campaign_id"], channel)
            checked_tabs += 1
    assert checked_tabs >= len(campaigns)


def test_period_page_shows_the_functions_figures(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_test(serving, monkeypatch).run()
    at.switch_page("live.py" if False else "period.py").run()
    assert not at.exception, at.exception
    deliveries = rows(
        serving,
        "select campaign_id, channel, execution_id from marts.fct_deliveries where channel in "
        "('email', 'sms', 'push') order by campaign_id, channel, execution_id",
    )
    from datetime import date

    at.date_input(key="period_dates").set_value((date(2026, 11, 1), date(2026, 11, 8))).run()
    seen = 0
    for delivery in deliveries[:6]:
        at.selectbox(key="period_campaign").set_value(delivery["campaign_id"]).run()
        at.selectbox(key="period_channel").set_value(delivery["channel"]).run()
        at.selectbox(key="period_execution").set_value(delivery["execution_id"]).run()
        assert not at.exception, (delivery, at.exception)
        expected = rows(
            serving,
            "select * from marts.period_delivery_cohort_between(timestamp '2026-11-01', "
            "timestamp '2026-11-09') where campaign_id = ? and channel = ? and execution_id = ?",
            [delivery["campaign_id"], delivery["channel"], delivery["execution_id"]],
        )
        if not expected:
            assert at.info, delivery
            continue
        shown = {metric.label: metric.value for metric in at.metric}
        assert shown["Sent"] == formatted("sent", expected[0]["sent"]), delivery
        assert shown["Delivered"] == formatted("delivered", expected[0]["delivered"]), delivery
        assert shown["Success rate"] == formatted("success_rate", expected[0]["success_rate"]), delivery
        assert shown["New quarantines"] == formatted("new_quarantines", expected[0]["new_quarantines"]), delivery
        seen += 1
        # The same delivery in event time: the event-time function's figures.
        at.radio(key="period_basis").set_value(at.radio(key="period_basis").options[1]).run()
        event_time = rows(
            serving,
            "select * from marts.period_delivery_report_between(timestamp '2026-11-01', "
            "timestamp '2026-11-09') where campaign_id = ? and channel = ? and execution_id = ?",
            [delivery["campaign_id"], delivery["channel"], delivery["execution_id"]],
        )
        shown = {metric.label: metric.value for metric in at.metric}
        assert shown["Sent"] == formatted("sent", event_time[0]["sent"])
        at.radio(key="period_basis").set_value(at.radio(key="period_basis").options[0]).run()
    assert seen >= 3


def test_the_live_controls_filter_executions_show_one_delivery_and_label_hours_in_a_zone(
    serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The email statistics' "Execution time" filter keeps the picked execution's row; the
    sidebar's zone shows start times in it (Tokyo: UTC+9, the mart's UTC plus 9 hours);
    the Live delivery page shows one delivery's tiles and reasons, the marts' values."""
    from datetime import timedelta

    at = app_test(serving, monkeypatch).run()
    email = rows(
        serving,
        "select campaign_id from marts.live_delivery_statistics where channel = 'email' group by campaign_id "
        "having count(*) >= 2 order by count(*) desc, campaign_id limit 1",
    )[0]["campaign_id"]
    executions = rows(
        serving,
        "select * from marts.live_delivery_statistics where campaign_id = ? and channel = 'email' order by execution_started_at",
        [email],
    )
    at.selectbox(key="report_zone").set_value("Asia/Tokyo").run()
    at.selectbox(key="live_campaign").set_value(email).run()
    assert not at.exception, at.exception

    def statistics_table():
        return next(frame.value for frame in at.tabs[1].dataframe if "unsubscriptions" in frame.value.columns)

    assert len(statistics_table()) == len(executions)
    picked = executions[-1]
    at.multiselect(key="executions_email").select(picked["execution_id"]).run()
    assert not at.exception, at.exception
    table = statistics_table()
    assert list(table["execution_id"]) == [picked["execution_id"]]
    assert table["execution_started_at"].iloc[0].to_pydatetime() == picked["execution_started_at"] + timedelta(hours=9)
    assert int(table["sent"].iloc[0]) == picked["sent"]

    at.switch_page("delivery.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="delivery_campaign").set_value(email).run()
    at.selectbox(key="delivery_channel").set_value("email").run()
    at.selectbox(key="delivery_execution").set_value(picked["execution_id"]).run()
    assert not at.exception, at.exception
    shown = {metric.label: metric.value for metric in at.metric}
    for column in ["sent", "delivered", "delivered_rate", "bounces", "bounce_rate", "errors", "opens", "clicks"]:
        assert shown[column.replace("_", " ").capitalize()] == formatted(column, picked[column]), column
    reasons = rows(
        serving,
        "select reason, events from marts.live_delivery_reasons where campaign_id = ? and execution_id = ? and channel = 'email' "
        "order by reason_kind, events desc",
        [email, picked["execution_id"]],
    )
    if reasons:
        table = at.dataframe[-1].value
        assert sorted(zip(table["reason"], table["events"], strict=True)) == sorted((r["reason"], r["events"]) for r in reasons)
    else:
        assert any("No error, exclusion or bounce" in info.value for info in at.info)


def test_period_pages_pass_the_zone_to_the_functions(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Days in New York: the period page's bounds are New York midnights (the DST change of
    2026-11-01 included: 04:00 then 05:00 UTC), and its figures the functions' called with
    the dates and the zone; the click distribution renders per hour and per day; on every
    page each chart has its CSV download."""
    from datetime import date

    at = app_test(serving, monkeypatch).run()
    at.selectbox(key="report_zone").set_value("America/New_York").run()
    at.switch_page("period.py").run()
    at.date_input(key="period_dates").set_value((date(2026, 11, 1), date(2026, 11, 7))).run()
    campaign = rows(serving, "select campaign_id from marts.fct_deliveries where channel = 'email' order by campaign_id limit 1")[
        0
    ]["campaign_id"]
    at.selectbox(key="period_campaign").set_value(campaign).run()
    at.selectbox(key="period_channel").set_value("email").run()
    assert not at.exception, at.exception
    assert at.caption[0].value.startswith("[2026-11-01 04:00, 2026-11-08 05:00) UTC")
    expected = rows(
        serving,
        "select * from marts.period_channel_report_between(date '2026-11-01', date '2026-11-08', report_timezone := 'America/New_York') "
        "where campaign_id = ? and channel = 'email'",
        [campaign],
    )[0]
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown["Sent"] == formatted("sent", expected["sent"]) and shown["Delivered"] == formatted(
        "delivered", expected["delivered"]
    )
    assert "Click distribution over time" in [header.value for header in at.subheader]
    at.radio(key="click_grain").set_value("Per day").run()
    assert not at.exception, at.exception
    # Every chart's data downloads as CSV (tables have the download in their own toolbar).
    for page in ["period.py", "live.py", "delivery.py", "deliverability.py", "experiments.py"]:
        at.switch_page(page).run()
        charts, downloads = at.get("vega_lite_chart"), at.get("download_button")
        assert charts and len(downloads) == len(charts), (page, len(charts), len(downloads))
        assert {button.proto.label for button in downloads} == {"Chart data (CSV)"}


def test_the_human_switch_shows_the_human_figures_on_both_report_pages(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched on, the email tab's open and click tiles are the marts' human_* figures (the
    sample has machine opens, so they differ); the period page's tiles too; switched off,
    today's figures again."""
    at = app_test(serving, monkeypatch).run()
    email = rows(
        serving,
        "select * from marts.live_channel_statistics where channel = 'email' and opens > human_opens "
        "order by targeted desc, campaign_id limit 1",
    )[0]
    at.selectbox(key="live_campaign").set_value(email["campaign_id"]).run()
    tiles = {metric.label: metric.value for metric in at.tabs[1].metric}
    assert tiles["Opens"] == formatted("opens", email["opens"]) and "Human opens" not in tiles
    at.toggle(key="human_only").set_value(True).run()
    assert not at.exception, at.exception
    tiles = {metric.label: metric.value for metric in at.tabs[1].metric}
    assert "Opens" not in tiles
    assert tiles["Human opens"] == formatted("human_opens", email["human_opens"]) != formatted("opens", email["opens"])
    assert tiles["Human clicks"] == formatted("human_clicks", email["human_clicks"])

    at.switch_page("period.py").run()
    assert not at.exception, at.exception
    assert at.toggle(key="human_only").value is True
    shown = {metric.label: metric.value for metric in at.metric}
    assert "Human unique opens" in shown and "Unique opens" not in shown
    at.toggle(key="human_only").set_value(False).run()
    shown = {metric.label: metric.value for metric in at.metric}
    assert "Unique opens" in shown and "Human unique opens" not in shown


def test_the_experimentation_tab_and_page_show_the_experiment_marts(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live report's Experimentation tab for the sample's experiment campaign, and the
    Experiments page: the per-treatment table is experiment_results' rows (every treatment,
    its profiles and conversion rate), the verdict is in words, another metric and an
    earlier day's end show experiment_results_as_of's rows; a campaign without an
    experiment says so."""
    at = app_test(serving, monkeypatch).run()
    experiment = rows(serving, "select * from marts.experiment_results order by experiment_id limit 1")[0]
    campaigns = [row["campaign_id"] for row in rows(serving, "select campaign_id from marts.live_campaign_statistics")]
    assert experiment["campaign_id"] in campaigns
    at.selectbox(key="live_campaign").set_value(experiment["campaign_id"]).run()
    assert not at.exception, at.exception
    tab = at.tabs[-1]
    table = tab.dataframe[0].value
    expected = rows(
        serving,
        "select treatment_id, profiles, conversion_rate from marts.experiment_results "
        "where experiment_id = ? and success_metric = 'unique_opens' order by treatment_id",
        [experiment["experiment_id"]],
    )
    shown = sorted(zip(table["treatment_id"], table["profiles"], table["conversion_rate"], strict=True))
    assert shown == [(r["treatment_id"], r["profiles"], r["conversion_rate"]) for r in expected]
    assert {"holdout", "trt_a", "trt_b"} <= set(table["treatment_id"])
    assert any(word in tab.markdown[0].value for word in ("Inconclusive", "best treatment", "baseline"))
    other = next(
        c
        for c in campaigns
        if c not in {r["campaign_id"] for r in rows(serving, "select campaign_id from marts.experiment_results")}
    )
    at.selectbox(key="live_campaign").set_value(other).run()
    assert "No content experiment in this campaign" in at.tabs[-1].info[0].value

    at.switch_page("experiments.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="experiments_page_metric").set_value("clicks").run()
    from datetime import date, datetime

    at.date_input(key="experiments_page_day").set_value(date(2026, 11, 2)).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    earlier = rows(
        serving,
        "select treatment_id, profiles, successes from marts.experiment_results_as_of(?) "
        "where experiment_id = ? and success_metric = 'clicks' order by treatment_id",
        [datetime(2026, 11, 2, 23, 59, 59), at.selectbox(key="experiments_page_experiment").value],
    )
    final = rows(
        serving,
        "select treatment_id, profiles, successes from marts.experiment_results "
        "where experiment_id = ? and success_metric = 'clicks' order by treatment_id",
        [at.selectbox(key="experiments_page_experiment").value],
    )
    assert earlier != final  # the earlier day shows fewer profiles
    assert sorted(zip(table["treatment_id"], table["profiles"], table["successes"], strict=True)) == [
        (r["treatment_id"], r["profiles"], r["successes"]) for r in earlier
    ]
    assert "Results as of 2026-11-02 23:59:59 UTC" in at.caption[0].value


def test_deliverability_page_shows_the_suppression_marts(serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_test(serving, monkeypatch).run()
    at.switch_page("deliverability.py").run()
    assert not at.exception, at.exception
    from datetime import date

    at.date_input(key="deliverability_dates").set_value((date(2026, 11, 1), date(2026, 11, 8))).run()
    assert not at.exception, at.exception
    expected = rows(
        serving,
        "select count(*) as suppressed, count(*) filter (where state = 'quarantined') as quarantined, "
        "count(*) filter (where state = 'denylisted') as denylisted from marts.suppression_list",
    )[0]
    shown = {metric.label: metric.value for metric in at.metric}
    assert expected["suppressed"] > 0
    assert {name: shown[name.capitalize()] for name in expected} == {k: formatted(k, v) for k, v in expected.items()}
    exclusions = rows(
        serving,
        "select campaign_id, excluded_for_suppression from marts.period_suppression_exclusions_between("
        "timestamp '2026-11-01', timestamp '2026-11-09') order by excluded_for_suppression desc, campaign_id",
    )
    tables = [frame.value for frame in at.dataframe]
    shown_exclusions = next(t for t in tables if "excluded_for_suppression" in t.columns)
    assert shown_exclusions[["campaign_id", "excluded_for_suppression"]].to_dict("records") == exclusions


def test_open_alerts_show_as_a_banner_on_every_page(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no open alert no banner; with a critical one, an error box on each page."""
    at = app_test(serving, monkeypatch).run()
    open_now = rows(serving, "select count(*) as n from marts.live_alerts")[0]["n"]
    banners = [box.value for box in [*at.error, *at.warning] if "open alert" in box.value]
    assert banners == ([] if open_now == 0 else [banners[0]]) and (open_now == 0 or banners[0].startswith(f"{open_now} open"))
    alerting = tmp_path / "alerting.duckdb"
    shutil.copyfile(serving, alerting)
    alerting.chmod(0o644)
    con = duckdb.connect(str(alerting))
    con.execute("delete from marts.live_alerts")
    con.execute(
        "insert into marts.live_alerts (alert_id, alert_scope, campaign_id, execution_id, channel, metric, alert_rule, "
        "severity, numerator, denominator, rate, threshold) values ('a1', 'delivery', 'cmp_00000', 'cmp_00000_x1', 'email', "
        "'complaint_rate', 'threshold', 'critical', 2, 400, 0.005, 0.003)"
    )
    con.close()
    at = app_test(alerting, monkeypatch).run()
    for page in ["live.py", "period.py", "deliverability.py"]:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        banners = [box.value for box in at.error]
        assert any("1 open alert on the live window (1 critical): complaint_rate" in text for text in banners), (page, banners)


def test_empty_states_say_why(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_test(tmp_path / "nothing.duckdb", monkeypatch).run()
    assert not at.exception and "Nothing published yet" in at.info[0].value
    # A publish whose live window holds no event: the live page says so.
    quiet = tmp_path / "quiet.duckdb"
    shutil.copyfile(serving, quiet)
    quiet.chmod(0o644)
    con = duckdb.connect(str(quiet))
    con.execute("delete from marts.live_campaign_statistics")
    con.close()
    at = app_test(quiet, monkeypatch).run()
    assert not at.exception and any("No events in the last 24 hours" in info.value for info in at.info)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.browser
def test_real_browser_renders_each_page(serving: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("streamlit")),
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "viewer",
        ],
        cwd=REPO,
        env=dict(project_env(), SERVING_PATH=str(serving)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            for path, first, name, setup, marker in [
                ("/", "Campaign statistics", "live", "email", "Sending performance"),
                ("/period", "Delivery overview", "period", None, "Top 10 links"),
                ("/deliverability", "Suppression list now", "deliverability", None, "Suppressions per day"),
                ("/delivery", "Live delivery", "delivery", None, "Over the last 24 hours"),
                ("/experiments", "Success metric", "experiments", None, "Bounds of the difference over time"),
            ]:
                page.goto(f"http://127.0.0.1:{port}{path}")
                page.wait_for_selector(f"text={first}", timeout=60000)
                if setup == "email":  # an email campaign's Email tab: charts and tables
                    page.locator('[data-testid="stSelectbox"]').filter(has_text="Campaign").first.click()
                    page.get_by_role("option", name="EMAIL scheduled campaign #0 (cmp_00000)").click()
                    page.get_by_role("tab", name="Email").click()
                page.wait_for_selector(f"text={marker}", timeout=60000)
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
                page.wait_for_timeout(2000)
                errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
                text = page.inner_text("body")
                page.screenshot(path=str(shots / f"{name}.png"))
                assert errors == 0 and "Traceback" not in text, f"{path}: an error box is shown:\n{text[:2000]}"
                assert marker in text and len(text) > 500, f"{path}: the page is blank or incomplete:\n{text[:2000]}"
                assert not_blank(shots / f"{name}.png"), f"{path}: the screenshot is blank"
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def not_blank(png: Path) -> bool:
    """More than a few distinct colours in the screenshot: text, tiles and charts."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    return len(colours) > 50
