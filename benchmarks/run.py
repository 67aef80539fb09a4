"""Run the benchmark suite: ``nox -s bench`` or ``python -m benchmarks.run [--quick]``.

Prints one table of medians and ratios (with min-max) against the targets of
issues 4 and 12, with the machine it ran on, and writes the raw results to
``benchmarks/results/<name>.json`` and a chart to ``<name>.png`` (``latest``
for a full run, ``quick`` for ``--quick`` or ``--only``).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import bulk, imports, overhead, parse
from ._common import (
    CLIENT_CPU,
    ROOT,
    SERVER_CPU,
    ServerProcess,
    TLSFiles,
    can_pin,
    machine,
    make_tls,
    pin,
    summary,
)

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- latest table: begin -->", "<!-- latest table: end -->"
PARTS = ("server", "bulk", "overhead", "parse", "memory", "import")
SDK_VARIANTS = (
    "sdk-async",
    "sdk-aiohttp",
    "sdk-aiohttp-session",
    "sdk-builtin",
    "sdk-blocking",
    "sdk-blocking-builtin",
)
RATIOS = (  # each path against its peer: (variant, reference)
    ("sdk-async", "httpx"),
    ("sdk-async", "aiohttp"),
    ("sdk-aiohttp", "aiohttp"),
    ("sdk-aiohttp-session", "aiohttp"),
    ("sdk-builtin", "aiohttp"),
    ("sdk-builtin", "floor"),
    ("sdk-blocking", "sdk-async"),
    ("sdk-blocking-builtin", "sdk-builtin"),
)
SCHEMES = ("http", "https")
SERVER_CANDIDATES = ("httptools", "granian-rsgi", "granian", "uvicorn")


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------- running


def choose_server(
    app: str, n: int, requested: str, probe_n: int, cpu: int | None
) -> tuple[ServerProcess, dict[str, Any]]:
    """Start the benchmark server; with ``auto``, the cheapest of the candidates.

    The candidates (httptools on uvloop, granian over RSGI and ASGI, uvicorn)
    serve the same answers; hand-written aiohttp at concurrency 64 is run
    against them in turn (three times each, interleaved), and the one that
    spends the least server CPU per answer (median) is kept: the benchmark
    measures clients, so the server should take as little of each answer's
    time as it can. Throughput is not the criterion: at c=64 hand-written
    aiohttp is bound by its own CPU, which makes the servers' throughputs
    a coin toss. Both are reported.
    """
    candidates = list(SERVER_CANDIDATES) if requested == "auto" else [requested]
    servers = {name: ServerProcess(name, n, cpu=cpu, app=app) for name in candidates}
    report: dict[str, Any] = {"app": app, "probe_requests": probe_n, "candidates": {}}
    try:
        if len(servers) > 1:
            probes: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(3):
                for name, server in servers.items():
                    probes[name].append(bulk.throughput_probe(server, probe_n, 64))
            for name, runs in probes.items():
                report["candidates"][name] = {
                    "rps": summary([r["rps"] for r in runs]),
                    "server_us": summary([r["server_cpu"] / r["rps"] * 1e6 for r in runs]),
                    "runs": runs,
                }
                log(
                    f"  server {name:12} ({app}): "
                    f"{report['candidates'][name]['rps']['median']:.0f} req/s (aiohttp, c=64), "
                    f"{report['candidates'][name]['server_us']['median']:.0f} us server CPU each"
                )
            chosen = min(servers, key=lambda k: report["candidates"][k]["server_us"]["median"])
        else:
            chosen = candidates[0]
        report["chosen"] = chosen
        for name, server in servers.items():
            if name != chosen:
                server.stop()
        return servers[chosen], report
    except BaseException:
        for server in servers.values():
            server.stop()
        raise


def server_ceilings(
    server: ServerProcess, n: int, probe_n: int, cpu: int | None, repeats: int = 3
) -> dict[str, Any]:
    """What the chosen server can do: the benchmark app, a bare answer, the live sandbox.

    Each is hit by hand-written aiohttp at concurrency 64; the CPU each side
    used (in cores) tells who limits: a side near 1.0 is saturated. The live
    sandbox is also probed with its 10 ms delay: a delay that blocked the
    worker would cap it at 100 requests per second.
    """
    results: dict[str, list[dict[str, float]]] = {
        "app": [],
        "ping": [],
        "live sandbox": [],
        "live sandbox, 10 ms delay": [],
    }
    live: ServerProcess | None = None
    if server.app != "sandbox" or server.server == "granian-rsgi":
        # The RSGI app answers live requests without the sandbox's delay: granian's
        # ASGI serves the live sandbox instead; the other servers serve it themselves.
        kind = "granian" if server.server == "granian-rsgi" else server.server
        live = ServerProcess(kind, n, cpu=cpu, app="sandbox")
    try:
        for _ in range(repeats):
            results["app"].append(bulk.throughput_probe(server, probe_n, 64))
            results["ping"].append(bulk.throughput_probe(server, probe_n, 64, ping=True))
            results["live sandbox"].append(bulk.throughput_probe(live or server, probe_n, 64))
        target = live or server
        target.set_delay(10)
        try:
            for _ in range(repeats):
                results["live sandbox, 10 ms delay"].append(
                    bulk.throughput_probe(target, probe_n, 64)
                )
        finally:
            target.set_delay(0)
    finally:
        if live is not None:
            live.stop()
    out: dict[str, Any] = {}
    for name, runs in results.items():
        out[name] = {
            key: statistics.median(r[key] for r in runs if r[key] is not None)
            for key in ("rps", "server_cpu", "client_cpu", "other_cpu")
            if any(r[key] is not None for r in runs)
        }
        out[name]["runs"] = runs
        log(
            f"  ceiling {name:25}: {out[name]['rps']:.0f} req/s, server CPU "
            f"{out[name]['server_cpu']:.2f}, client CPU {out[name]['client_cpu']:.2f} cores"
        )
    return out


def tls_ceilings(
    server: ServerProcess, probe_n: int, context: ssl.SSLContext | None, repeats: int
) -> dict[str, Any]:
    """The HTTPS server serving the benchmark app, hit by hand-written aiohttp at c=64."""
    runs = [bulk.throughput_probe(server, probe_n, 64, ssl_context=context) for _ in range(repeats)]
    out: dict[str, Any] = {
        key: statistics.median(r[key] for r in runs if r[key] is not None)
        for key in ("rps", "server_cpu", "client_cpu", "other_cpu")
        if any(r[key] is not None for r in runs)
    }
    out["runs"] = runs
    log(
        f"  ceiling app over TLS: {out['rps']:.0f} req/s, server CPU "
        f"{out['server_cpu']:.2f}, client CPU {out['client_cpu']:.2f} cores"
    )
    return {"app": out}


def trust_for_sdk(tls: TLSFiles) -> None:
    """Make the SDK trust the benchmark's CA, as a user would: ``SSL_CERT_FILE``.

    The SDK builds one verifying context per process, on the first client
    (``httpx.create_ssl_context()``, which reads ``SSL_CERT_FILE``), so this
    must run before any client exists; it checks that the SDK's context holds
    the CA. (This process then trusts that CA only.)
    """
    from ticketpulse import _base

    os.environ["SSL_CERT_FILE"] = str(tls.ca_file)
    os.environ.pop("SSL_CERT_DIR", None)
    subjects = [str(cert.get("subject")) for cert in _base.ssl_context().get_ca_certs()]
    if not any("ticketpulse benchmarks" in subject for subject in subjects):
        raise RuntimeError(
            "the SDK's TLS context was made before SSL_CERT_FILE was set: "
            "it does not trust the benchmark CA"
        )


def run_memory(ids: int, concurrency: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.memory",
            "--ids",
            str(ids),
            "--concurrency",
            str(concurrency),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    log(
        f"  memory: {result['growth_mb']:.1f} MB growth over {result['baseline_mb']:.1f} MB "
        f"({ids} ids, concurrency {concurrency}, {result['seconds']:.0f} s)"
    )
    return result


# ---------------------------------------------------------------------- analysis


def _records(
    results: dict[str, Any], mode: str, concurrency: int, variant: str, scheme: str = "http"
) -> list[Any]:
    return sorted(
        (
            r
            for r in results["bulk"]["records"]
            if r["mode"] == mode
            and r["concurrency"] == concurrency
            and r["variant"] == variant
            and r.get("scheme", "http") == scheme
        ),
        key=lambda r: r["round"],
    )


def _metric(mode: str) -> str:
    return "rps" if mode == "zero" else "efficiency"


def _client_us(record: dict[str, Any]) -> float:
    """Client CPU microseconds per request (older records: from cores and req/s)."""
    if "client_us" in record:
        value: float = record["client_us"]
        return value
    return float(record["client_cpu"] / record["rps"] * 1e6)


def bulk_stat(
    results: dict[str, Any], mode: str, c: int, variant: str, scheme: str = "http"
) -> dict[str, float] | None:
    runs = _records(results, mode, c, variant, scheme)
    return summary([r[_metric(mode)] for r in runs]) if runs else None


def bulk_ratio(
    results: dict[str, Any],
    mode: str,
    c: int,
    variant: str,
    reference: str,
    scheme: str = "http",
) -> dict[str, float] | None:
    """Per-round ratios variant / reference (throughput; efficiency is proportional)."""
    a = _records(results, mode, c, variant, scheme)
    b = _records(results, mode, c, reference, scheme)
    pairs = {r["round"]: r for r in b}
    ratios = [r["rps"] / pairs[r["round"]]["rps"] for r in a if r["round"] in pairs]
    return summary(ratios) if ratios else None


def cpu_stat(
    results: dict[str, Any], mode: str, c: int, variant: str, scheme: str = "http"
) -> dict[str, float] | None:
    """Client CPU microseconds per request over the rounds."""
    runs = _records(results, mode, c, variant, scheme)
    return summary([_client_us(r) for r in runs]) if runs else None


def cpu_ratio(
    results: dict[str, Any],
    mode: str,
    c: int,
    variant: str,
    reference: str,
    scheme: str = "http",
) -> dict[str, float] | None:
    """Per-round ratios of client CPU per request, variant / reference."""
    a = _records(results, mode, c, variant, scheme)
    b = _records(results, mode, c, reference, scheme)
    pairs = {r["round"]: r for r in b}
    ratios = [_client_us(r) / _client_us(pairs[r["round"]]) for r in a if r["round"] in pairs]
    return summary(ratios) if ratios else None


def fastest_sdk(results: dict[str, Any], mode: str, c: int, scheme: str = "http") -> str | None:
    best, best_value = None, -1.0
    for variant in SDK_VARIANTS:
        stat = bulk_stat(results, mode, c, variant, scheme)
        if stat is not None and stat["median"] > best_value:
            best, best_value = variant, stat["median"]
    return best


def _latency_note(results: dict[str, Any], c: int, variant: str) -> str:
    """The reference's efficiency, and how busy the client was (1.0: CPU-bound)."""
    parts = []
    reference = bulk_stat(results, "latency", c, "aiohttp")
    if reference is not None:
        parts.append(f"aiohttp by hand: {reference['median']:.2f}")
    runs = _records(results, "latency", c, variant)
    if runs:
        cpu = statistics.median(r["client_cpu"] for r in runs)
        parts.append(f"client CPU {cpu:.2f} cores")
    return "; ".join(parts)


def _schemes(results: dict[str, Any]) -> list[str]:
    found = {r.get("scheme", "http") for r in results["bulk"]["records"]}
    return [s for s in ("http", "https") if s in found]


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issues 4 and 12: the figure, the threshold, and whether it is met.

    Issue 4's are taken over plain HTTP (warm connections); issue 12's over
    plain HTTP and again over TLS with connection setup timed.
    """
    targets: list[dict[str, Any]] = []

    def add(
        number: str,
        text: str,
        stat: dict[str, float] | None,
        op: str,
        threshold: float,
        note: str = "",
        value: float | None = None,
    ) -> None:
        if stat is None and value is None:
            return  # not measured in this run (a variant or part left out)
        figure = value if value is not None else (stat["median"] if stat else None)
        met = None
        if figure is not None:
            met = figure >= threshold if op == ">=" else figure <= threshold
        targets.append(
            {
                "target": number,
                "what": text,
                "median": figure,
                "min": stat["min"] if stat else None,
                "max": stat["max"] if stat else None,
                "op": op,
                "threshold": threshold,
                "met": met,
                "note": note,
            }
        )

    if "bulk" in results and results["bulk"]["records"]:
        cs = sorted({r["concurrency"] for r in results["bulk"]["records"]})
        top, low = max(cs), min(cs)
        best = fastest_sdk(results, "zero", top)
        if best is not None:
            add(
                "1a",
                f"fastest SDK ({best}) / aiohttp, zero delay, c={top}",
                bulk_ratio(results, "zero", top, best, "aiohttp"),
                ">=",
                0.9,
            )
        add(
            "1b",
            f"sdk-async / httpx, zero delay, c={top}",
            bulk_ratio(results, "zero", top, "sdk-async", "httpx"),
            ">=",
            1.0,
        )
        s_top, s_low = (bulk_stat(results, "zero", c, "sdk-async") for c in (top, low))
        scaling = results["bulk"].get("scaling")
        if scaling:
            add(
                "1c",
                f"sdk-async req/s c={scaling['high']} / c={scaling['low']}, zero delay "
                "(both in each round)",
                summary(scaling["ratios"]),
                ">=",
                1.0,
            )
        elif s_top and s_low and top != low:
            add(
                "1c",
                f"sdk-async req/s c={top} / c={low}, zero delay (ratio of medians)",
                None,
                ">=",
                1.0,
                value=s_top["median"] / s_low["median"],
            )
        add(
            "1d",
            f"sdk-async / httpx efficiency, latency mode, c={top} (gains kept)",
            bulk_ratio(results, "latency", top, "sdk-async", "httpx"),
            ">=",
            1.0,
        )
        best_latency = fastest_sdk(results, "latency", top)
        if best_latency is not None:
            add(
                "2",
                f"efficiency of the fastest SDK ({best_latency}), latency mode, c={top}",
                bulk_stat(results, "latency", top, best_latency),
                ">=",
                0.8,
                note=_latency_note(results, top, best_latency),
            )
        for number, blocking, reference in (
            ("3", "sdk-blocking", "sdk-async"),
            ("3b", "sdk-blocking-builtin", "sdk-builtin"),
        ):
            worst: tuple[float, int, dict[str, float]] | None = None
            for c in cs:
                ratio = bulk_ratio(results, "zero", c, blocking, reference)
                if ratio and (worst is None or ratio["median"] < worst[0]):
                    worst = (ratio["median"], c, ratio)
            if worst is not None:
                add(
                    number,
                    f"{blocking} / {reference}, zero delay, lowest over c={cs} (at c={worst[1]})",
                    worst[2],
                    ">=",
                    0.8,
                )
        for scheme in _schemes(results):
            over = "http" if scheme == "http" else "https, setup timed"
            suffix = "" if scheme == "http" else " TLS"
            add(
                "12a" + suffix,
                f"sdk-async / httpx, zero delay, c={top}, {over}",
                bulk_ratio(results, "zero", top, "sdk-async", "httpx", scheme),
                ">=",
                10.0,
            )
            add(
                "12b" + suffix,
                f"sdk-builtin / aiohttp, zero delay, c={top}, {over}",
                bulk_ratio(results, "zero", top, "sdk-builtin", "aiohttp", scheme),
                ">=",
                3.0,
            )
            floor_us = cpu_stat(results, "zero", top, "floor", scheme)
            add(
                "12c" + suffix,
                f"sdk-builtin / floor client CPU per request, zero delay, c={top}, {over}",
                cpu_ratio(results, "zero", top, "sdk-builtin", "floor", scheme),
                "<=",
                1.5,
                note="" if floor_us is None else f"floor {floor_us['median']:.0f} us",
            )
    if "overhead" in results:
        add(
            "4",
            "per call in-process: SDK get_ticket_url / raw httpx + .json()",
            results["overhead"]["ratio"],
            "<=",
            1.2,
        )
    if "parse" in results:
        add(
            "5",
            "parse /events (%.2f MB): SDK / pydantic validate_json"
            % (results["parse"]["bytes"] / 1e6),
            results["parse"]["ratio"],
            "<=",
            1.0,
        )
    if "memory" in results:
        m = results["memory"]
        add(
            "6",
            f"iter_ticket_urls {m['ids']} ids, c={m['concurrency']}: peak RSS growth (MB)",
            None,
            "<=",
            30.0,
            value=m["growth_mb"],
        )
    if "import" in results:
        add(
            "7",
            "import ticketpulse / import httpx, attrs, cattrs, anyio (medians)",
            results["import"]["ratio"],
            "<=",
            1.25,
            value=results["import"]["ratio_of_medians"],
        )
    return targets


# ---------------------------------------------------------------------- output


def _range(stat: dict[str, float] | None, fmt: str) -> tuple[str, str]:
    if stat is None:
        return "-", ""
    return format(stat["median"], fmt), f"{format(stat['min'], fmt)}-{format(stat['max'], fmt)}"


def table(results: dict[str, Any]) -> str:
    """The one table: every median with its min-max, and the targets."""
    rows: list[tuple[str, str, str, str]] = []

    def section(title: str) -> None:
        rows.append((title, "", "", ""))

    def row(what: str, stat: dict[str, float] | None, fmt: str, extra: str = "") -> None:
        median, spread = _range(stat, fmt)
        rows.append(("  " + what, median, spread, extra))

    if "server" in results:
        section(
            "server (aiohttp by hand, c=64; the least server CPU per answer is chosen): req/s"
            " | server / client / other CPU (cores); server CPU us per answer"
        )
        srv = results["server"]
        for name, cand in srv["choice"]["candidates"].items():
            chosen = " (chosen)" if name == srv["choice"]["chosen"] else ""
            per = cand.get("server_us")
            each = f"{per['median']:.0f} us" if per else ""
            row(f"{name} serving the {srv['choice']['app']} app{chosen}", cand["rps"], ".0f", each)
        for name, ceiling in srv["ceilings"].items():
            cpu = (
                f"{ceiling['server_cpu']:.2f} / {ceiling['client_cpu']:.2f} / "
                f"{ceiling.get('other_cpu', float('nan')):.2f}; "
                f"{ceiling['server_cpu'] / ceiling['rps'] * 1e6:.0f} us"
            )
            rows.append((f"  {srv['choice']['chosen']}: {name}", f"{ceiling['rps']:.0f}", "", cpu))
    if "server" in results and results["server"].get("tls"):
        srv = results["server"]
        for name, ceiling in srv["tls"].items():
            cpu = (
                f"{ceiling['server_cpu']:.2f} / {ceiling['client_cpu']:.2f} / "
                f"{ceiling.get('other_cpu', float('nan')):.2f}; "
                f"{ceiling['server_cpu'] / ceiling['rps'] * 1e6:.0f} us"
            )
            rows.append(
                (f"  {srv['choice']['chosen']} over TLS: {name}", f"{ceiling['rps']:.0f}", "", cpu)
            )
    if "bulk" in results and results["bulk"]["records"]:
        data = results["bulk"]
        cs = sorted({r["concurrency"] for r in data["records"]})
        variants = [v for v in data["variants"] if v not in data["not_available"]]
        rounds = max(r["round"] for r in data["records"]) + 1
        for scheme in _schemes(results):
            over = (
                "http"
                if scheme == "http"
                else "https (TLS; new client per run, connection setup timed)"
            )
            for mode in ("zero", "latency"):
                if mode == "zero":
                    section(
                        f"bulk over {over}, zero delay, N={data['n']}, {rounds} rounds, "
                        f"{data['loop']} loop: req/s | server / client / other CPU (cores)"
                    )
                else:
                    section(
                        f"bulk over {over}, server waits {data['delay_ms']:g} ms, "
                        f"N=min({data['latency_waves']} x c, N), {rounds} rounds: efficiency"
                        " | server / client CPU; ms the server held each answer"
                    )
                for c in cs:
                    for variant in variants:
                        runs = _records(results, mode, c, variant, scheme)
                        if not runs:
                            continue
                        cpu = "{:.2f} / {:.2f}".format(
                            statistics.median(r["server_cpu"] for r in runs),
                            statistics.median(r["client_cpu"] for r in runs),
                        )
                        if mode == "zero" and all(r["other_cpu"] is not None for r in runs):
                            cpu += " / {:.2f}".format(
                                statistics.median(r["other_cpu"] for r in runs)
                            )
                        held = [r["server_held_ms"] for r in runs if r.get("server_held_ms")]
                        if mode == "latency" and held:
                            cpu += f"; {statistics.median(held):.2f}"
                        fmt = ".0f" if mode == "zero" else ".2f"
                        stat = bulk_stat(results, mode, c, variant, scheme)
                        row(f"c={c:<3} {variant}", stat, fmt, cpu)
                section(
                    f"bulk ratios over {scheme}, "
                    f"{'zero delay' if mode == 'zero' else 'latency mode'} (per round)"
                )
                for c in cs:
                    for variant, reference in RATIOS:
                        if variant in variants and reference in variants:
                            row(
                                f"c={c:<3} {variant} / {reference}",
                                bulk_ratio(results, mode, c, variant, reference, scheme),
                                ".2f",
                            )
            if "floor" in variants:
                section(
                    f"client CPU per request over {scheme}, zero delay: us | variant / floor"
                    " (per round)"
                )
                for c in cs:
                    for variant in variants:
                        stat = cpu_stat(results, "zero", c, variant, scheme)
                        if stat is None:
                            continue
                        ratio = (
                            None
                            if variant == "floor"
                            else cpu_ratio(results, "zero", c, variant, "floor", scheme)
                        )
                        extra = (
                            ""
                            if ratio is None
                            else f"{ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
                        )
                        row(f"c={c:<3} {variant}", stat, ".0f", extra)
            scaling = data.get("scaling")
            if scaling and scheme == "http":
                low, high, name = scaling["low"], scaling["high"], scaling["variant"]
                section(f"{name} over http, zero delay, c={low} and c={high} in each round: req/s")
                for c, key in ((low, "low_rps"), (high, "high_rps")):
                    row(f"c={c:<3} {name}", summary([r[key] for r in scaling["records"]]), ".0f")
                row(f"ratio c={high} / c={low} (per round)", summary(scaling["ratios"]), ".2f")
                if all("low_us" in r for r in scaling["records"]):
                    for c, key in ((low, "low_us"), (high, "high_us")):
                        row(
                            f"client CPU us per request, c={c}",
                            summary([r[key] for r in scaling["records"]]),
                            ".0f",
                        )
        for missing in data["not_available"]:
            rows.append((f"  {missing}", "not available", "", ""))
    if "overhead" in results:
        o = results["overhead"]
        section(f"per call in-process ({o['calls_per_round']} calls x rounds): CPU us per call")
        row("SDK AsyncClient.get_ticket_url", o["sdk_us"], ".1f")
        row("raw httpx.AsyncClient.get + .json()", o["raw_us"], ".1f")
        row("ratio SDK / raw", o["ratio"], ".2f")
    if "parse" in results:
        p = results["parse"]
        section(f"parse GET /events, {p['bytes'] / 1e6:.2f} MB: CPU ms")
        row("SDK (bytes -> list[Event]), with the orjson extra", p["sdk_ms"], ".1f")
        row("pydantic TypeAdapter.validate_json", p["pydantic_ms"], ".1f")
        row("ratio SDK / pydantic", p["ratio"], ".2f")
        if "ratio_without_orjson" in p:
            row("SDK without orjson (stdlib json)", p["sdk_without_orjson_ms"], ".1f")
            row("ratio SDK without orjson / pydantic", p["ratio_without_orjson"], ".2f")
        row("json.loads alone (context)", p["json_loads_ms"], ".1f")
        row("orjson.loads alone (context)", p["orjson_loads_ms"], ".1f")
    if "memory" in results:
        m = results["memory"]
        section(f"memory: iter_ticket_urls, {m['ids']} lazy ids, c={m['concurrency']}")
        rows.append(("  baseline RSS (MB)", f"{m['baseline_mb']:.1f}", "", ""))
        rows.append(("  peak RSS growth (MB)", f"{m['growth_mb']:.2f}", "", m["peak_source"]))
    if "import" in results:
        i = results["import"]
        section(f"import, whole processes ({i['runs']} runs each, interleaved): wall ms")
        for name, code in i["commands"].items():
            row(f'python -c "{code}"', i["ms"][name], ".1f")
        row("ratio ticketpulse / dependencies (per run)", i["ratio"], ".2f")
    targets = evaluate(results)
    if targets:
        section("targets (issue 4; 12a-12c: issue 12)")
        for t in targets:
            figure = "-" if t["median"] is None else f"{t['median']:.2f}"
            spread = "" if t["min"] is None else f"{t['min']:.2f}-{t['max']:.2f}"
            verdict = {True: "MET", False: "NOT MET", None: "-"}[t["met"]]
            note = f"  ({t['note']})" if t["note"] else ""
            rows.append(
                (
                    f"  {t['target']:>7}. {t['what']}",
                    figure,
                    spread,
                    f"{t['op']} {t['threshold']:g}: {verdict}{note}",
                )
            )
    width = max(len(r[0]) for r in rows)
    header = ("", "median", "min-max", "")
    lines = [f"{header[0]:<{width}}  {header[1]:>9}  {header[2]:<15}  {header[3]}"]
    for what, median, spread, extra in rows:
        if not median and not spread and not extra:
            lines.append(what)
        else:
            lines.append(f"{what:<{width}}  {median:>9}  {spread:<15}  {extra}".rstrip())
    m = results["machine"]
    lines.append("")
    lines.append(
        f"machine: {m['cpu']}, {m['cores']} cores (client pinned to core {CLIENT_CPU}, server to "
        f"core {SERVER_CPU}: {results['pinned']}), {m['python']}, {m['platform']}"
    )
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines.append(f"versions: {versions}")
    source = m.get("source") or {}
    dirty = source.get("sdk_uncommitted_changes")
    lines.append(
        f"source: commit {source.get('commit')}"
        + (f", with uncommitted SDK changes: {', '.join(dirty)}" if dirty else "")
    )
    lines.append(
        f"date: {m['date']}; load average at start: {m['loadavg_at_start']}; "
        f"command: {results['command']}; {results['seconds']:.0f} s"
    )
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> bool:
    if "bulk" not in results or not results["bulk"]["records"]:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = results["bulk"]
    cs = sorted({r["concurrency"] for r in data["records"]})
    variants = [v for v in data["variants"] if v not in data["not_available"]]
    schemes = _schemes(results)
    fig, grid = plt.subplots(len(schemes), 2, figsize=(13, 5 * len(schemes)), squeeze=False)
    for axes, scheme in zip(grid, schemes, strict=True):
        over = "http" if scheme == "http" else "https, setup timed"
        for ax, mode in zip(axes, ("zero", "latency"), strict=True):
            for variant in variants:
                stats = [bulk_stat(results, mode, c, variant, scheme) for c in cs]
                xs = [c for c, s in zip(cs, stats, strict=True) if s]
                med = [s["median"] for s in stats if s]
                low = [s["median"] - s["min"] for s in stats if s]
                high = [s["max"] - s["median"] for s in stats if s]
                ax.errorbar(xs, med, yerr=[low, high], marker="o", capsize=4, label=variant)
            ax.set_xscale("log", base=2)
            ax.set_xticks(cs, [str(c) for c in cs])
            ax.set_xlabel("concurrency")
            ax.grid(True, alpha=0.3)
            if mode == "zero":
                ax.set_yscale("log")
                ax.set_ylabel("requests / s (median, min-max bars)")
                ax.set_title(f"Zero-delay server, {over}: throughput")
            else:
                ax.set_ylabel("efficiency = (N x delay / c) / time")
                ax.set_ylim(0, 1.05)
                ax.axhline(0.8, color="grey", linestyle="--", linewidth=1)
                ax.set_title(f"Server waits {data['delay_ms']:g} ms, {over}: efficiency")
            ax.legend(fontsize=8)
    m = results["machine"]
    fig.suptitle(
        f"ticketpulse bulk get_ticket_urls - {m['cpu']}, {m['cores']} cores, "
        f"{m['python']}, {m['date'][:10]}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def update_readme(text: str) -> bool:
    """Put the table between the README's markers (a full run's table only)."""
    try:
        readme = README.read_text()
    except OSError:
        return False
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return False
    block = f"{BEGIN}\n```text\n{text}\n```\n"
    README.write_text(readme[:start] + block + readme[end:])
    return True


# ---------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (about a minute)")
    parser.add_argument("--rounds", type=int, help="rounds after the warm-up (7; quick: 2)")
    parser.add_argument("--n", type=int, help="tickets per bulk run (5000; quick: 400)")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", help="bulk concurrencies (4 16 64; quick: 4 64)"
    )
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run only these parts")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(bulk.VARIANTS),
        default=list(bulk.DEFAULT_VARIANTS),
        help="bulk variants (all but sdk-aiohttp-session)",
    )
    parser.add_argument(
        "--schemes",
        nargs="+",
        choices=SCHEMES,
        default=list(SCHEMES),
        help="bulk over plain http (warm connections) and over https (a trustme CA, "
        "connection setup timed) (both)",
    )
    parser.add_argument("--server", choices=("auto", *SERVER_CANDIDATES), default="auto")
    parser.add_argument(
        "--app",
        choices=("replay", "sandbox"),
        default="replay",
        help="what answers get-ticket in the bulk runs (see benchmarks/server.py)",
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop of the async bulk variants, hand-written and SDK alike (asyncio)",
    )
    parser.add_argument("--delay-ms", type=float, default=10.0, help="latency mode delay (10)")
    parser.add_argument(
        "--latency-waves",
        type=int,
        help="latency mode: at most this many x concurrency requests per run (40; quick: 5)",
    )
    parser.add_argument(
        "--memory-ids", type=int, help="ids for the memory run (100000; quick: 5000)"
    )
    parser.add_argument(
        "--import-runs", type=int, help="runs of each import command (21; quick: 5)"
    )
    parser.add_argument("--name", help="results file name (latest; quick for --quick/--only)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (2 if quick else 7)
    args.n = args.n or (400 if quick else 5000)
    args.concurrency = args.concurrency or ([4, 64] if quick else [4, 16, 64])
    args.latency_waves = args.latency_waves or (5 if quick else 40)
    args.memory_ids = args.memory_ids or (5_000 if quick else 100_000)
    args.import_runs = args.import_runs or (5 if quick else 21)
    partial = (
        args.only or args.variants != list(bulk.DEFAULT_VARIANTS) or args.schemes != list(SCHEMES)
    )
    args.name = args.name or ("quick" if quick or partial else "latest")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parts = set(args.only or PARTS)
    started = time.perf_counter()
    pinned = can_pin() and pin(CLIENT_CPU)
    server_cpu = SERVER_CPU if pinned else None
    results: dict[str, Any] = {
        "machine": machine(),
        "pinned": pinned,
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {k: v for k, v in vars(args).items() if k != "only"} | {"parts": sorted(parts)},
        "steps": {},
    }
    log(f"benchmarks: {', '.join(p for p in PARTS if p in parts)} (pinned: {pinned})")
    steps: list[tuple[str, Callable[[], None]]] = []

    tls: TLSFiles | None = None
    tls_context: ssl.SSLContext | None = None
    tls_dir = tempfile.TemporaryDirectory(prefix="ticketpulse-bench-tls-")
    if "https" in args.schemes and parts & {"server", "bulk"}:
        try:
            tls = make_tls(Path(tls_dir.name))
        except ImportError as exc:
            tls_dir.cleanup()
            raise SystemExit(
                f"the https mode needs trustme ({exc}): pip install 'trustme>=1.1', "
                "or run with --schemes http"
            ) from None
        tls_context = tls.client_context()
        trust_for_sdk(tls)

    def server_and_bulk() -> None:
        probe_n = min(args.n, 400 if args.quick else 2000)
        repeats = 1 if args.quick else 3
        server, choice = choose_server(args.app, args.n, args.server, probe_n, server_cpu)
        try:
            if "server" in parts:
                results["server"] = {
                    "choice": choice,
                    "ceilings": server_ceilings(server, args.n, probe_n, server_cpu, repeats),
                }
            if "bulk" in parts:
                results["bulk"] = {
                    "variants": {name: bulk.DESCRIPTIONS[name] for name in args.variants},
                    "not_available": [v for v in args.variants if not bulk.available(v)],
                    "delay_ms": args.delay_ms,
                    "latency_waves": args.latency_waves,
                    "loop": args.loop,
                    "server": choice["chosen"],
                    "app": args.app,
                    "n": args.n,
                    "schemes": args.schemes,
                    "records": [],
                }
            if "bulk" in parts and "http" in args.schemes:
                clock = time.perf_counter()
                done = bulk.run_bulk(
                    server,
                    variants=args.variants,
                    concurrencies=args.concurrency,
                    rounds=args.rounds,
                    delay_ms=args.delay_ms,
                    latency_waves=args.latency_waves,
                    warm_up=50 if args.quick else 200,
                    loop=args.loop,
                    progress=log,
                )
                results["bulk"]["records"] += done["records"]
                cs = sorted(args.concurrency)
                if "sdk-async" in args.variants and len(cs) > 1:
                    # Twice the rounds: its per-round ratio swings widely (a 5 s pair
                    # of runs on a shared machine), and each round is cheap.
                    results["bulk"]["scaling"] = bulk.run_scaling(
                        server,
                        low=cs[0],
                        high=cs[-1],
                        rounds=2 * args.rounds,
                        loop=args.loop,
                        progress=log,
                    )
                results["steps"]["bulk over http"] = time.perf_counter() - clock
        finally:
            server.stop()
        if tls is None:
            return
        # The same kind of server, now serving HTTPS only with the trustme CA's certificate.
        secure = ServerProcess(choice["chosen"], args.n, cpu=server_cpu, app=args.app, tls=tls)
        try:
            if "server" in parts:
                results["server"]["tls"] = tls_ceilings(secure, probe_n, tls_context, repeats)
            if "bulk" in parts:
                clock = time.perf_counter()
                done = bulk.run_bulk(
                    secure,
                    variants=args.variants,
                    concurrencies=args.concurrency,
                    rounds=args.rounds,
                    delay_ms=args.delay_ms,
                    latency_waves=args.latency_waves,
                    warm_up=50 if args.quick else 200,
                    loop=args.loop,
                    ssl_context=tls_context,
                    progress=log,
                )
                results["bulk"]["records"] += done["records"]
                results["bulk"]["tls"] = {
                    "ca": "trustme (a new CA per run), server certificate for 127.0.0.1",
                    "server": choice["chosen"],
                    "sdk_trust": "SSL_CERT_FILE (read by httpx.create_ssl_context)",
                    "hand_written_trust": "one ssl.create_default_context(cafile=CA)",
                    "timed": "client construction, TCP connects, TLS handshakes, N requests",
                }
                results["steps"]["bulk over https"] = time.perf_counter() - clock
        finally:
            secure.stop()

    if parts & {"server", "bulk"}:
        steps.append(("server and bulk", server_and_bulk))
    if "overhead" in parts:
        steps.append(
            (
                "overhead",
                lambda: results.__setitem__(
                    "overhead",
                    overhead.run_overhead(
                        calls=300 if args.quick else 2000,
                        rounds=args.rounds + 2,
                        progress=log,
                    ),
                ),
            )
        )
    if "parse" in parts:
        steps.append(
            (
                "parse",
                lambda: results.__setitem__(
                    "parse",
                    parse.run_parse(
                        rounds=args.rounds + 2, repeats=1 if args.quick else 3, progress=log
                    ),
                ),
            )
        )
    if "memory" in parts:
        steps.append(
            ("memory", lambda: results.__setitem__("memory", run_memory(args.memory_ids, 64)))
        )
    if "import" in parts:
        steps.append(
            (
                "import",
                lambda: results.__setitem__(
                    "import", imports.run_imports(runs=args.import_runs, progress=log)
                ),
            )
        )
    try:
        for name, step in steps:
            log(f"- {name}")
            clock = time.perf_counter()
            step()
            results["steps"][name] = time.perf_counter() - clock
            log(f"  ({name}: {results['steps'][name]:.0f} s)")
    finally:
        tls_dir.cleanup()
    results["seconds"] = time.perf_counter() - started
    results["targets"] = evaluate(results)
    text = table(results)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / f"{args.name}.txt").write_text(text + "\n")
    wrote = [f"{args.name}.json", f"{args.name}.txt"]
    if chart(results, RESULTS / f"{args.name}.png"):
        wrote.append(f"{args.name}.png")
    if args.name == "latest" and update_readme(text):
        wrote.append("../README.md (latest table)")
    print(f"\nwrote {', '.join(str(Path('benchmarks/results') / w) for w in wrote)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
