"""Shared test helpers: loading the bpy-free modules, finding the corpus, and independent geometry checks."""

import importlib.util
import os
import random
import sys
from collections import Counter, deque

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(TESTS_DIR)
REPO_DIR = os.path.dirname(PLUGIN_DIR)
PACKAGE_DIR = os.path.join(PLUGIN_DIR, "voxgen_blender")

if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)


def load_module(name):
    """Loads a bpy-free module of the add-on (vox_parser, meshing) by path, without importing the package."""
    full = f"voxgen_test_{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.spec_from_file_location(full, os.path.join(PACKAGE_DIR, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


def corpus_dir():
    """The corpus folder (VOXGEN_CORPUS, else <repo>/../shared/corpus), or None with a printed message."""
    path = os.environ.get("VOXGEN_CORPUS") or os.path.join(os.path.dirname(REPO_DIR), "shared", "corpus")
    if os.path.isdir(path):
        return path
    print(f"corpus not found at {path}: corpus tests skipped (set VOXGEN_CORPUS)", file=sys.stderr)
    return None


def corpus_vox_files():
    """All .vox files of the corpus, sorted; empty when the corpus is missing."""
    root = corpus_dir()
    if root is None:
        return []
    found = []
    for folder, _dirs, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if f.endswith(".vox")]
    return sorted(found)


def random_voxels(size, fill, colors, seed):
    """Random voxels (x, y, z, colour) filling about `fill` of a box, with colours 1..colors."""
    rng = random.Random(seed)
    out = []
    for z in range(size[2]):
        for y in range(size[1]):
            for x in range(size[0]):
                if rng.random() < fill:
                    out.append((x, y, z, rng.randint(1, colors)))
    return out


def ball_voxels(radius, color_of=lambda x, y, z: 1 + (x + y + z) % 3):
    """A solid digital ball (no voxels touching only along an edge): its size and voxels."""
    n = 2 * radius + 1
    out = []
    for z in range(n):
        for y in range(n):
            for x in range(n):
                if (x - radius) ** 2 + (y - radius) ** 2 + (z - radius) ** 2 <= radius * radius + radius:
                    out.append((x, y, z, color_of(x, y, z)))
    return (n, n, n), out


def hollow_box_voxels(n, color=5):
    """A closed box shell of edge n with one inner cavity: its size and voxels."""
    out = []
    for z in range(n):
        for y in range(n):
            for x in range(n):
                if min(x, y, z) == 0 or max(x, y, z) == n - 1:
                    out.append((x, y, z, color))
    return (n, n, n), out


def occupancy(voxels):
    """A dict position -> colour."""
    return {(x, y, z): c for x, y, z, c in voxels}


NEIGHBOURS = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))


def exposed_faces(voxels, size, exterior_only=False):
    """Counter of exposed unit faces by (axis, sign, colour), counted voxel by voxel."""
    filled = occupancy(voxels)
    outside = exterior_cells(filled, size) if exterior_only else None
    faces = Counter()
    for (x, y, z), color in filled.items():
        for dx, dy, dz in NEIGHBOURS:
            nb = (x + dx, y + dy, z + dz)
            free = nb in outside if outside is not None else nb not in filled
            if free:
                axis = 0 if dx else 1 if dy else 2
                faces[(axis, dx + dy + dz, color)] += 1
    return faces


def exterior_cells(filled, size):
    """Empty cells in the box grown by one that are reachable from its corner (breadth-first search)."""
    low, high = (-1, -1, -1), (size[0], size[1], size[2])
    seen = {low}
    queue = deque([low])
    while queue:
        x, y, z = queue.popleft()
        for dx, dy, dz in NEIGHBOURS:
            nb = (x + dx, y + dy, z + dz)
            if nb in seen or nb in filled:
                continue
            if all(low[i] <= nb[i] <= high[i] for i in range(3)):
                seen.add(nb)
                queue.append(nb)
    return seen


def polygon_normal_area(points):
    """(axis, sign, area) of an axis-aligned planar polygon, from its Newell normal."""
    normal = [0, 0, 0]
    for i, p in enumerate(points):
        q = points[(i + 1) % len(points)]
        normal[0] += (p[1] - q[1]) * (p[2] + q[2])
        normal[1] += (p[2] - q[2]) * (p[0] + q[0])
        normal[2] += (p[0] - q[0]) * (p[1] + q[1])
    axis = max(range(3), key=lambda a: abs(normal[a]))
    others = [normal[a] for a in range(3) if a != axis]
    if any(abs(v) > 1e-9 for v in others):
        raise AssertionError(f"polygon is not axis-aligned: {points}")
    twice = normal[axis]
    return axis, (1 if twice > 0 else -1), abs(twice) / 2


def directed_edges(polygons):
    """Counter of directed edges (a, b) over all polygons."""
    edges = Counter()
    for poly in polygons:
        for i, p in enumerate(poly):
            edges[(p, poly[(i + 1) % len(poly)])] += 1
    return edges


def t_junctions(polygons):
    """Vertices lying strictly inside some polygon edge (a T-junction each); empty for a clean mesh."""
    lines = {}
    vertices = {p for poly in polygons for p in poly}
    for v in vertices:
        for axis in range(3):
            key = (axis,) + tuple(v[a] for a in range(3) if a != axis)
            lines.setdefault(key, []).append(v[axis])
    found = []
    for poly in polygons:
        for i, a in enumerate(poly):
            b = poly[(i + 1) % len(poly)]
            axis = next(k for k in range(3) if a[k] != b[k])
            key = (axis,) + tuple(a[k] for k in range(3) if k != axis)
            low, high = sorted((a[axis], b[axis]))
            found += [(a, b, v) for v in lines[key] if low < v < high]
    return found


def signed_volume(polygons):
    """Volume enclosed by the polygons (divergence theorem on axis-aligned faces)."""
    volume = 0.0
    for poly in polygons:
        axis, sign, area = polygon_normal_area(poly)
        volume += sign * poly[0][axis] * area / 3.0
    return volume


def area_by_direction_color(polygons, colors):
    """Counter of polygon area by (axis, sign, colour)."""
    areas = Counter()
    for poly, color in zip(polygons, colors):
        axis, sign, area = polygon_normal_area(poly)
        areas[(axis, sign, int(color))] += area
    return areas


def voxel_behind(poly):
    """The voxel cell just behind a polygon's minimum in-plane corner (the voxel it belongs to)."""
    axis, sign, _ = polygon_normal_area(poly)
    corner = [min(p[k] for p in poly) for k in range(3)]
    cell = [corner[k] for k in range(3)]
    cell[axis] = poly[0][axis] - 1 if sign > 0 else poly[0][axis]
    return tuple(cell)


def dense(model):
    """A model's colour indices as a (sx, sy, sz) numpy array."""
    import numpy as np

    grid = np.zeros(model.size, dtype=np.int64)
    raw = np.frombuffer(model.xyzi, dtype=np.uint8).reshape(-1, 4)
    grid[raw[:, 0], raw[:, 1], raw[:, 2]] = raw[:, 3]
    return grid


def exposed_face_count(grid):
    """Exposed unit faces of a dense grid, counted with numpy (independent of the add-on's mesher)."""
    import numpy as np

    filled = np.pad(grid != 0, 1)
    count = 0
    for axis in range(3):
        for shift in (1, -1):
            count += int((filled & ~np.roll(filled, shift, axis=axis)).sum())
    return count


def noisy_sphere_vox(n, seed=0):
    """A .vox file with an n^3 model: a sphere with a noisy surface, colours in 8-voxel blocks."""
    import struct

    import numpy as np
    import voxwriter as vw

    rng = np.random.default_rng(seed)
    x, y, z = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    centre = (n - 1) / 2
    radius = np.sqrt((x - centre) ** 2 + (y - centre) ** 2 + (z - centre) ** 2)
    filled = radius + 3 * rng.random((n, n, n)) < n / 2
    colors = (1 + (x // 8 + y // 8 + z // 8) % 7).astype(np.uint8)
    index = np.nonzero(filled)
    raw = np.stack([index[0], index[1], index[2], colors[index]], axis=1).astype(np.uint8).tobytes()
    body = vw.size_chunk((n, n, n)) + vw.chunk(b"XYZI", struct.pack("<i", len(raw) // 4) + raw)
    return b"VOX " + struct.pack("<i", 150) + vw.chunk(b"MAIN", b"", body)
