"""`make bench-peers` measures circlebook with the same code it points at Radicale and Xandikos.

Only circlebook is started here: the peers are installed from PyPI by the
benchmark itself, which a test run never does.
"""

from __future__ import annotations

import pytest
from bench import dav_timings, peers
from bench.stats import Sample

TINY = peers.Plan(
    runs=2, change_runs=3, add_runs=2, budget_s=1.0, requests=20, rate_seconds=1, connections=2
)


@pytest.mark.slow
def test_every_circlebook_figure_is_measured_on_a_small_book() -> None:
    figures = peers.measure_circlebook(5, TINY)

    assert set(figures.samples) == {"initial", "change", "query", "json", "add", "poll", "me"}
    assert all(sample.runs >= 2 for sample in figures.samples.values())
    assert figures.samples["poll"].per_second > 0
    assert figures.samples["me"].per_second > 0
    assert figures.rss_mib > 10
    table = peers.table(5, [figures], TINY.connections)
    assert "initial sync" in table and "GET /v1/me" in table


def _figures(server: str, ms: float, per_second: float, rss: float) -> peers.Figures:
    timing = Sample(seconds=[ms / 1000] * 3, wall=3 * ms / 1000)
    rate = dav_timings.Rate(10, 10 / per_second, 1.0, 2.0, 0, "httpx")
    samples: dict[str, Sample | dav_timings.Rate] = dict.fromkeys(
        ("initial", "change", "query", "add"), timing
    )
    samples["poll"] = rate
    if server == "circlebook":
        samples |= {"json": timing, "me": rate}
    return peers.Figures(server, "1", 10_000, samples=samples, rss_mib=rss)


def test_the_table_sets_each_peer_against_circlebook_and_judges_the_targets() -> None:
    everyone = [
        _figures("circlebook", 10, 1000, 100),
        _figures("Radicale", 500, 100, 50),
        _figures("Xandikos", 50, 500, 200),
    ]

    lines = peers.table(10_000, everyone, 8).splitlines()

    initial = next(line for line in lines if line.startswith("initial sync"))
    assert "50.0x" in initial and "5.0x" in initial
    assert "Radicale >= 20x met" in initial and "Xandikos >= 10x NOT met" in initial
    poll = next(line for line in lines if line.startswith("CTag poll"))
    assert "10.0x" in poll and "2.0x" in poll
    memory = next(line for line in lines if line.startswith("resident memory"))
    assert "0.50x" in memory and "2.00x" in memory


@pytest.mark.slow
def test_the_rates_fall_back_to_httpx_where_wrk_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dav_timings.shutil, "which", lambda _name: None)

    figures = peers.measure_circlebook(4, TINY)

    rates = [figures.samples[key] for key in ("poll", "me")]
    assert all(isinstance(r, dav_timings.Rate) and r.client == "httpx" for r in rates)
    assert all(isinstance(r, dav_timings.Rate) and r.runs == TINY.requests for r in rates)


def test_a_peer_that_answers_no_poll_in_the_run_is_shown_as_a_lower_bound() -> None:
    everyone = [_figures("circlebook", 10, 1000, 100), _figures("Radicale", 500, 100, 50)]
    everyone[1].samples["poll"] = dav_timings.Rate(0, 10.0, 0.0, 0.0, 0, "wrk")

    poll = next(line for line in peers.table(10_000, everyone, 8).splitlines() if "CTag" in line)

    assert "none in 10 s" in poll and ">10,000.0x" in poll
