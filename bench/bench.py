#!/usr/bin/env python3
"""Voxelization benchmark: voxgen against trimesh, Open3D and PyVista.

    python3 bench/bench.py            (what `make bench` runs, after `make build`)
    python3 bench/bench.py --regen    (remake the benchmark mesh first)

Sets up a virtual environment in .bench/venv with the Python libraries (installing only what is
missing), makes the ~80,000-triangle benchmark mesh with `cargo run --release --example
make_creatures -- --bench-mesh bench/out/bench.obj` unless it exists, then times every tool at
64^3 and 256^3 and prints one Markdown table.

Every tool is timed the same way: in-process, around the voxelization call only, the mesh
already loaded. For voxgen that is `examples/voxelize_timing` (built by `make bench`), which
reads the OBJ once and times `voxgen::voxel::voxelize` (surface, fill and colour per voxel).
For context, the whole `voxgen voxelize` command (process start-up, loading libtorch's shared
libraries, reading the OBJ, voxelizing, writing the .vox) and its start-up alone
(`voxgen --version`) get rows of their own. Each tool runs in its own process so a slow one can be cut
off after TIMEOUT_S seconds. Figures are medians of RUNS runs; a tool whose runs add up to more
than SLOW_BUDGET_S seconds stops early and the table says how many runs it got.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / "venv"
OUT = ROOT / "bench" / "out"
MESH = OUT / "bench.obj"
VOXGEN = ROOT / "target" / "release" / "voxgen"
VOXGEN_TIMING = ROOT / "target" / "release" / "examples" / "voxelize_timing"
RESOLUTIONS = (64, 256)
RUNS = 5
TIMEOUT_S = 120
SLOW_BUDGET_S = 60
LOAD_TIMEOUT_S = 300

# pip name -> the module it provides; the alternatives are tried in order.
PACKAGES = {
    "numpy": ["numpy"],
    "scipy": ["scipy"],
    "rtree": ["rtree"],
    "trimesh": ["trimesh"],
    "open3d": ["open3d", "open3d-cpu"],
    "pyvista": ["pyvista"],
}

# What each tool computes, for the table.
WHAT = {
    "voxgen": "surface + fill + colour per voxel: `voxel::voxelize` in-process, OBJ read excluded",
    "voxgen command": "whole `voxgen voxelize` command: start-up, libtorch load, OBJ read, .vox write",
    "voxgen start-up": "`voxgen --version` alone (process start, libtorch load)",
    "trimesh": "`voxelized(pitch).fill()`: surface + fill, no colour",
    "open3d": "`VoxelGrid.create_from_triangle_mesh`: surface only, no fill, no colour",
    "pyvista": "`DataSet.voxelize(spacing)`: filled hexahedra (UnstructuredGrid), no colour",
    "pyvista mask": "`voxelize_binary_mask(spacing)`: filled occupancy image, no colour",
}
PY_TOOLS = ("trimesh", "open3d", "pyvista", "pyvista mask")


@dataclass
class Row:
    """One line of the table."""

    tool: str
    res: int | None
    times: list[float] = field(default_factory=list)
    note: str = ""
    voxels: int | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


# ---------------------------------------------------------------- set-up


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> list[str]:
    """Creates the venv and installs what is missing; returns notes on packages that failed."""
    if not venv_python().exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    notes = []
    for module, candidates in PACKAGES.items():
        if importable(module):
            continue
        for name in candidates:
            log(f"installing {name} into {VENV.relative_to(ROOT)}")
            cmd = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", name]
            if subprocess.run(cmd).returncode == 0 and importable(module):
                break
        else:
            notes.append(f"{module}: could not be installed ({', '.join(candidates)} tried)")
    return notes


def importable(module: str) -> bool:
    probe = [str(venv_python()), "-c", f"import {module}"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def ensure_mesh(regen: bool) -> None:
    """Makes the benchmark mesh with the generator example unless it is there already."""
    if MESH.exists() and not regen:
        log(f"reusing {MESH.relative_to(ROOT)} (--regen remakes it)")
        return
    cmd = ["cargo", "run", "--release", "--quiet", "--example", "make_creatures", "--",
           "--bench-mesh", str(MESH.relative_to(ROOT))]
    log("making the benchmark mesh: " + " ".join(cmd))
    if subprocess.run(cmd, cwd=ROOT).returncode != 0 or not MESH.exists():
        sys.exit("bench: could not make the benchmark mesh (see the cargo output above)")


# ---------------------------------------------------------------- voxgen


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def run_timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    return time.perf_counter() - start, done


def bench_voxgen_startup() -> Row:
    row = Row("voxgen start-up", None)
    if not VOXGEN.exists():
        row.note = f"failed: {VOXGEN.relative_to(ROOT)} not found (run `make build`)"
        return row
    for _ in range(RUNS):
        seconds, done = run_timed([str(VOXGEN), "--version"])
        if done.returncode != 0:
            row.note = "failed: " + first_line(done.stderr or done.stdout)
            return row
        row.times.append(seconds)
    return row


def bench_voxgen_inprocess() -> dict[int, Row]:
    """Runs examples/voxelize_timing once for every resolution; one row per resolution."""
    rows = {res: Row("voxgen", res) for res in RESOLUTIONS}
    if not VOXGEN_TIMING.exists():
        for row in rows.values():
            row.note = f"failed: {VOXGEN_TIMING.relative_to(ROOT)} not found (run `make bench`)"
        return rows
    cmd = [str(VOXGEN_TIMING), str(MESH), "--json", "--runs", str(RUNS)]
    cmd += [str(res) for res in RESOLUTIONS]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=LOAD_TIMEOUT_S + TIMEOUT_S * RUNS * len(RESOLUTIONS))
    except subprocess.TimeoutExpired:
        for row in rows.values():
            row.note = "skipped: took too long"
        return rows
    for line in done.stdout.splitlines():
        msg = json.loads(line)
        if msg["event"] == "run":
            rows[msg["res"]].times.append(msg["seconds"])
            rows[msg["res"]].voxels = msg["voxels"]
    if done.returncode != 0:
        for row in rows.values():
            if not row.times:
                row.note = "failed: " + first_line(done.stderr or done.stdout)
    return rows


def bench_voxgen_command(res: int, scratch: Path) -> Row:
    row = Row("voxgen command", res)
    if not VOXGEN.exists():
        row.note = f"failed: {VOXGEN.relative_to(ROOT)} not found (run `make build`)"
        return row
    out = scratch / f"voxgen_{res}.vox"
    cmd = [str(VOXGEN), "-v", "voxelize", str(MESH), "--res", str(res), "-o", str(out)]
    for _ in range(RUNS):
        try:
            seconds, done = run_timed(cmd)
        except subprocess.TimeoutExpired:
            row.note = f"skipped: over {TIMEOUT_S} s"
            return row
        if done.returncode != 0 or not out.exists():
            row.note = "failed: " + first_line(done.stderr or done.stdout)
            row.times = []
            return row
        row.times.append(seconds)
        if sum(row.times) > SLOW_BUDGET_S:
            break
    return row


# ---------------------------------------------------------------- Python libraries


def bench_python(tool: str, res: int) -> Row:
    """Runs one library in a worker process, reading its JSON lines with per-step deadlines."""
    row = Row(tool, res)
    cmd = [str(venv_python()), str(Path(__file__).resolve()), "--worker", tool, "--res", str(res)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = LOAD_TIMEOUT_S
    try:
        while True:
            if not sel.select(timeout=deadline):
                stage = "loading" if deadline == LOAD_TIMEOUT_S else "one run"
                row.note = f"skipped: {stage} took over {deadline} s"
                break
            line = proc.stdout.readline()
            if not line:
                break
            msg = json.loads(line)
            if msg["event"] == "loaded":
                deadline = TIMEOUT_S
            elif msg["event"] == "run":
                row.times.append(msg["seconds"])
                row.voxels = msg["voxels"]
            elif msg["event"] == "error":
                row.note = "failed: " + msg["message"]
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.communicate()[1]
    if not row.times and not row.note:
        row.note = "failed: " + first_line(stderr)
    return row


def worker(tool: str, res: int) -> None:
    """Inside the venv: loads the mesh, then voxelizes it up to RUNS times, printing JSON lines."""

    def say(**msg):
        print(json.dumps(msg), flush=True)

    try:
        load, voxelize = TOOLS[tool]
        mesh, extent = load()
        say(event="loaded")
        total = 0.0
        for _ in range(RUNS):
            start = time.perf_counter()
            count = voxelize(mesh, extent / res)
            seconds = time.perf_counter() - start
            total += seconds
            say(event="run", seconds=seconds, voxels=int(count))
            if total > SLOW_BUDGET_S:
                break
    except Exception as e:  # the parent turns this into a "failed" row
        say(event="error", message=f"{type(e).__name__}: {first_line(str(e))}")


def load_trimesh():
    import trimesh

    mesh = trimesh.load(str(MESH), force="mesh", process=False)
    return mesh, float(max(mesh.extents))


def voxelize_trimesh(mesh, pitch: float) -> int:
    return mesh.voxelized(pitch).fill().filled_count


def load_open3d():
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(str(MESH))
    return mesh, float(max(mesh.get_max_bound() - mesh.get_min_bound()))


def voxelize_open3d(mesh, size: float) -> int:
    import open3d as o3d

    return len(o3d.geometry.VoxelGrid.create_from_triangle_mesh(mesh, voxel_size=size).get_voxels())


def load_pyvista():
    import pyvista as pv

    mesh = pv.read(str(MESH)).triangulate()
    lo, hi = mesh.bounds[0::2], mesh.bounds[1::2]
    return mesh, float(max(h - l for l, h in zip(lo, hi)))


def voxelize_pyvista(mesh, spacing: float) -> int:
    import pyvista as pv

    if hasattr(mesh, "voxelize"):  # pyvista >= 0.46
        return mesh.voxelize(spacing=spacing).n_cells
    return pv.voxelize(mesh, density=spacing).n_cells  # older releases


def voxelize_pyvista_mask(mesh, spacing: float) -> int:
    import numpy as np

    mask = mesh.voxelize_binary_mask(spacing=spacing)
    return int(np.count_nonzero(mask.point_data["mask"]))


TOOLS = {
    "trimesh": (load_trimesh, voxelize_trimesh),
    "open3d": (load_open3d, voxelize_open3d),
    "pyvista": (load_pyvista, voxelize_pyvista),
    "pyvista mask": (load_pyvista, voxelize_pyvista_mask),
}


# ---------------------------------------------------------------- report


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def table(rows: list[Row]) -> str:
    voxgen = {r.res: r.median for r in rows if r.tool == "voxgen"}
    lines = [
        "| tool | resolution | median | runs | what it does | time / voxgen's |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        res = f"{r.res}³" if r.res else "-"
        if r.note and not r.times:
            lines.append(f"| {r.tool} | {res} | {r.note} | 0 | {WHAT[r.tool]} | - |")
            continue
        base = voxgen.get(r.res)
        ratio = f"{r.median / base:.2f}×" if base and r.tool in PY_TOOLS else "-"
        what = WHAT[r.tool]
        if r.voxels is not None:
            what += f"; {r.voxels:,} voxels"
        if r.note:
            what += f"; {r.note}"
        lines.append(f"| {r.tool} | {res} | {fmt_seconds(r.median)} | {len(r.times)} | {what} | {ratio} |")
    return "\n".join(lines)


def verdict(rows: list[Row], res: int = 256) -> str:
    ours = next((r for r in rows if r.tool == "voxgen" and r.res == res), None)
    others = [r for r in rows if r.tool in PY_TOOLS and r.res == res and r.times]
    claim = f"voxgen ≥2× faster than the fastest other tool at {res}³"
    if not others:
        return f"{claim}: cannot tell, no other tool finished"
    fastest = min(others, key=lambda r: r.median)
    if ours is None or not ours.times:
        return f"{claim}: cannot tell, voxgen did not run ({ours.note if ours else 'no row'})"
    speedup = fastest.median / ours.median
    answer = "yes" if speedup >= 2 else "no"
    line = (f"{claim}: {answer} (voxgen {fmt_seconds(ours.median)}, fastest other: "
            f"{fastest.tool} {fmt_seconds(fastest.median)}, {speedup:.2f}×; all in-process, "
            "mesh loading excluded)")
    filling = [r for r in others if r.tool != "open3d"]
    if fastest.tool == "open3d" and filling:
        f = min(filling, key=lambda r: r.median)
        line += (f"; against the fastest tool that also fills, {f.tool} {fmt_seconds(f.median)}: "
                 f"{f.median / ours.median:.2f}×")
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regen", action="store_true", help="remake the benchmark mesh")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--res", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.res)
        return 0

    notes = ensure_venv()
    ensure_mesh(args.regen)
    rows = [bench_voxgen_startup()]
    log("voxgen in-process at " + ", ".join(f"{res}³" for res in RESOLUTIONS))
    inprocess = bench_voxgen_inprocess()
    with tempfile.TemporaryDirectory() as scratch:
        for res in RESOLUTIONS:
            rows.append(inprocess[res])
            log(f"voxgen command at {res}³")
            rows.append(bench_voxgen_command(res, Path(scratch)))
            for tool in PY_TOOLS:
                log(f"{tool} at {res}³")
                rows.append(bench_python(tool, res))

    print(f"\nVoxelizing {MESH.relative_to(ROOT)} ({triangle_count()} triangles) on "
          f"{os.cpu_count()} CPU core(s); median of up to {RUNS} runs, a tool stops early once its "
          f"runs pass {SLOW_BUDGET_S} s and is cut off after {TIMEOUT_S} s in one run. Every tool is "
          "timed in-process around its voxelization call, mesh loading excluded; the 'voxgen "
          "command' rows time the whole CLI for context. The last column is the tool's time "
          "divided by voxgen's in-process time (above 1: voxgen is faster).\n")
    print(table(rows))
    print()
    print(verdict(rows))
    for note in notes:
        print(f"note: {note}")
    voxgen_failed = any(r.tool.startswith("voxgen") and not r.times for r in rows)
    return 1 if voxgen_failed else 0


def triangle_count() -> int:
    with open(MESH) as f:
        return sum(1 for line in f if line.startswith("f "))


if __name__ == "__main__":
    sys.exit(main())
