"""The timeline's HTML in a real browser: headless Chromium renders the file, and the DOM it built is
checked (lanes, peaks, outcome colours, nothing fetched from the network). The same run writes a
screenshot; with ECSCHED_WRITE_DOCS=1 it is docs/timeline.png.

CI installs Chromium from the distribution: `apt-get install -y chromium` (Debian). The test skips,
saying so, only where no Chromium binary is found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from insight_helpers import detail, minute, now, put_history, write_config

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((b for b in (shutil.which(n) for n in BROWSERS) if b), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium found (CI: apt-get install -y chromium)")
# No sandbox: CI runs as root in a container. Every host name fails to resolve: nothing can be fetched.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking"]


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.peaks: list[str] = []
        self._in_peak = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag == "li" and a.get("class") == "peak":
            self._in_peak = True
            self.peaks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._in_peak = False

    def handle_data(self, data: str) -> None:
        if self._in_peak:
            self.peaks[-1] += data

    def having(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and cls in a.get("class", "").split()]


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run([BROWSER, *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")})


NET = "{aws_vpc_configuration: {subnets: [subnet-1], security_groups: [sg-1]}}"


def sample(tmp: Path) -> str:
    """A small estate: a 03:00 JST pile-up of five nightly batches, a weekly job, a paused one."""
    rules: list[dict[str, Any]] = []
    for name in ("billing-export", "search-reindex", "report-daily", "cleanup-sessions", "warehouse-sync"):
        rules.append({"name": name, "scheduleExpression": "cron(0 3 * * ? *)"})
    rules += [{"name": "weekly-digest", "scheduleExpression": "cron(0 9 ? * MON *)"},
              {"name": "hourly-metrics", "scheduleExpression": "cron(15 * * * ? *)"},
              {"name": "legacy-import", "scheduleExpression": "cron(30 1 * * ? *)", "disabled": "true"}]
    for r in rules:
        r.update(taskDefinition="task1", launch_type="FARGATE", network_configuration=NET)
    return write_config(tmp, rules, history=True, top="timezone: Asia/Tokyo")


def test_html_renders_lanes_peaks_and_outcomes_offline(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = sample(tmp_path)
    t = minute(now() - timedelta(hours=3))
    put_history([detail("billing-export", created=t, stopped=t + timedelta(minutes=4), exit_code=0),
                 detail("search-reindex", created=t, stopped=t + timedelta(minutes=9), exit_code=1)])
    page = tmp_path / "timeline.html"
    res = cli("-c", cfg, "timeline", "--days", "7", "--tz", "Asia/Tokyo", "--html", str(page))
    assert res.code == 0, res.err
    run = chromium("--dump-dom", page.as_uri())
    assert run.returncode == 0 and "</html>" in run.stdout, run.stderr[-2000:]
    dom = Dom()
    dom.feed(run.stdout)
    lanes = dom.having("g", "lane")
    assert len(lanes) == 8 and len(dom.having("g", "paused")) == 1
    assert {a["data-name"] for a in lanes} >= {"billing-export", "weekly-digest", "legacy-import"}
    assert len(dom.having("rect", "fire")) > 7 * 5
    assert len(dom.having("circle", "ok")) == 1 and len(dom.having("circle", "failed")) == 1
    assert len(dom.peaks) == 1 and dom.peaks[0].startswith("03:00 Asia/Tokyo: 5 batches start within 1 minute")
    remote = ("http:", "https:", "//")
    external = [(t, k, v) for t, a in dom.elements for k, v in a.items()
                if k in ("src", "href", "srcset", "poster", "data") and v.strip().lower().startswith(remote)]
    assert external == [] and not any(t in ("script", "link", "iframe", "img") for t, _ in dom.elements)
    shot = ROOT / "docs" / "timeline.png" if os.environ.get("ECSCHED_WRITE_DOCS") == "1" else tmp_path / "t.png"
    run = chromium(f"--screenshot={shot}", "--window-size=1280,520", page.as_uri())
    assert run.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", run.stderr[-2000:]
