"""Voxel model to polygon mesh: greedy faces, one cube per voxel, or the outer hull.

Every mesher returns a `MeshData` in integer voxel-corner coordinates (0..size on each axis), with polygons
wound counter-clockwise seen from outside and one palette colour index per polygon.

Greedy meshing works per face direction and slice: exposed faces of one colour are joined into runs along the
slice's u axis, and runs with the same extent and colour in consecutive v rows are joined into rectangles. The
rectangles are then made watertight without T-junctions: every mesh vertex that lies strictly inside a
rectangle's edge is inserted into that rectangle's outline, so rectangles become n-gons whose straight sides hold
the corners of their neighbours. After welding equal positions, each edge is then shared by exactly the faces that
meet along it (two on a manifold surface).

Two implementations give identical polygons: one with numpy (used inside Blender, which ships it, and whenever
numpy is importable) and one in plain Python (slower; used when numpy is missing).
"""

from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass

try:
    import numpy as np
except ImportError:  # plain Python path below
    np = None

GREEDY = "GREEDY"
CUBES = "CUBES"
HULL = "HULL"
MODES = (GREEDY, CUBES, HULL)

# For a face normal along `axis`, the in-plane axes (u, v) with u x v = +axis.
PLANE_AXES = {0: (1, 2), 1: (2, 0), 2: (0, 1)}
DIRECTIONS = tuple((axis, sign) for axis in range(3) for sign in (1, -1))


@dataclass
class MeshData:
    """Polygons of one model. Arrays are numpy arrays on the numpy path and lists on the plain path.

    vertices: (N, 3) integer corner coordinates; loops: vertex index per polygon corner, polygon after polygon;
    face_sizes: corners per polygon; face_colors: palette colour index (1..255) per polygon;
    edges: None, or (vertex pairs (E, 2), edge index per corner) when the mesher knows them (cubes, numpy path).
    """

    vertices: object
    loops: object
    face_sizes: object
    face_colors: object
    edges: object = None

    @property
    def face_count(self):
        """Number of polygons."""
        return len(self.face_sizes)

    def polygons(self):
        """The polygons as lists of vertex coordinate tuples (for tests and small meshes)."""
        verts = [tuple(int(c) for c in v) for v in self.vertices]
        loops = [int(i) for i in self.loops]
        out, pos = [], 0
        for size in self.face_sizes:
            out.append([verts[i] for i in loops[pos:pos + int(size)]])
            pos += int(size)
        return out


def have_numpy():
    """True when the numpy implementation can be used."""
    return np is not None


def mesh_model(model, mode=GREEDY, use_numpy=None):
    """Meshes a `vox_parser.Model` with one of MODES; `use_numpy=None` picks numpy when it is importable."""
    if mode not in MODES:
        raise ValueError(f"unknown meshing mode {mode!r}")
    if use_numpy is None:
        use_numpy = have_numpy()
    if use_numpy:
        if np is None:
            raise RuntimeError("numpy is not installed")
        return mesh_numpy(model, mode)
    return mesh_plain(model, mode)


def corner_uv(sign, u0, u1, v0, v1):
    """The four (u, v) corners of a rectangle, counter-clockwise seen from the side the normal points to."""
    if sign > 0:
        return ((u0, v0), (u1, v0), (u1, v1), (u0, v1))
    return ((u0, v0), (u0, v1), (u1, v1), (u1, v0))


def to_xyz(axis, plane, u, v):
    """A point given by its plane coordinate along `axis` and its (u, v) in-plane coordinates."""
    point = [0, 0, 0]
    ua, va = PLANE_AXES[axis]
    point[axis], point[ua], point[va] = plane, u, v
    return tuple(point)


# ----------------------------------------------------------------------------------------------------------------
# Plain Python implementation


def dense_plain(model):
    """The model as a flat bytearray of colour indices, x fastest."""
    sx, sy, sz = model.size
    grid = bytearray(sx * sy * sz)
    raw = model.xyzi
    for i in range(0, len(raw), 4):
        grid[raw[i] + sx * (raw[i + 1] + sy * raw[i + 2])] = raw[i + 3]
    return grid


def exterior_plain(grid, size):
    """Empty cells reachable from outside, on the grid padded by one cell: a bytearray of 0/1, x fastest."""
    sx, sy, sz = size
    px, py, pz = sx + 2, sy + 2, sz + 2
    outside = bytearray(px * py * pz)
    outside[0] = 1
    queue = deque([0])
    steps = (1, -1, px, -px, px * py, -px * py)
    while queue:
        cell = queue.popleft()
        x, rest = cell % px, cell // px
        y, z = rest % py, rest // py
        for step, ok in zip(steps, (x < px - 1, x > 0, y < py - 1, y > 0, z < pz - 1, z > 0)):
            nxt = cell + step
            if not ok or outside[nxt]:
                continue
            nx, rest = nxt % px, nxt // px
            ny, nz = rest % py, rest // py
            inside = 0 < nx <= sx and 0 < ny <= sy and 0 < nz <= sz
            if inside and grid[(nx - 1) + sx * ((ny - 1) + sy * (nz - 1))]:
                continue
            outside[nxt] = 1
            queue.append(nxt)
    return outside


def face_rows_plain(model, mode):
    """Exposed faces grouped by (axis, sign, slice, v): lists of (u, colour)."""
    sx, sy, sz = model.size
    grid = dense_plain(model)
    outside = exterior_plain(grid, model.size) if mode == HULL else None
    px, py = sx + 2, sy + 2
    rows = {}
    raw = model.xyzi
    for i in range(0, len(raw), 4):
        pos, color = (raw[i], raw[i + 1], raw[i + 2]), raw[i + 3]
        for axis, sign in DIRECTIONS:
            nb = list(pos)
            nb[axis] += sign
            x, y, z = nb
            if outside is not None:
                exposed = outside[(x + 1) + px * ((y + 1) + py * (z + 1))]
            else:
                exposed = not (0 <= x < sx and 0 <= y < sy and 0 <= z < sz) or not grid[x + sx * (y + sy * z)]
            if exposed:
                ua, va = PLANE_AXES[axis]
                rows.setdefault((axis, sign, pos[axis], pos[va]), []).append((pos[ua], color))
    return rows


def rectangles_plain(rows):
    """Greedy rectangles (axis, sign, slice, u0, u1, v0, v1, colour) from the face rows."""
    rects, open_rects = [], {}
    for key in sorted(rows):
        axis, sign, s, v = key
        cells = sorted(rows[key])
        start = 0
        for i in range(1, len(cells) + 1):
            if i < len(cells) and cells[i][0] == cells[i - 1][0] + 1 and cells[i][1] == cells[start][1]:
                continue
            u0, u1, color = cells[start][0], cells[i - 1][0] + 1, cells[start][1]
            run_key = (axis, sign, s, u0, u1, color)
            index = open_rects.get(run_key)
            if index is not None and rects[index][6] == v:
                rects[index][6] = v + 1
            else:
                open_rects[run_key] = len(rects)
                rects.append([axis, sign, s, u0, u1, v, v + 1, color])
            start = i
    return rects


def outline_plain(rects):
    """Corner points of each rectangle (counter-clockwise), and the rectangle colours."""
    outlines, colors = [], []
    for axis, sign, s, u0, u1, v0, v1, color in rects:
        plane = s + 1 if sign > 0 else s
        outlines.append([to_xyz(axis, plane, u, v) for u, v in corner_uv(sign, u0, u1, v0, v1)])
        colors.append(color)
    return outlines, colors


def weld_plain(outlines, colors):
    """Welds equal corners and inserts every vertex lying strictly inside a polygon edge (no T-junctions)."""
    index = {}
    for outline in outlines:
        for point in outline:
            index.setdefault(point, len(index))
    lines = ({}, {}, {})
    for point in index:
        for axis in range(3):
            key = tuple(point[a] for a in range(3) if a != axis)
            lines[axis].setdefault(key, []).append(point[axis])
    for axis_lines in lines:
        for values in axis_lines.values():
            values.sort()
    loops, sizes = [], []
    for outline in outlines:
        count = 0
        for k, start in enumerate(outline):
            end = outline[(k + 1) % len(outline)]
            loops.append(index[start])
            inner = inner_points_plain(lines, start, end)
            loops.extend(index[p] for p in inner)
            count += 1 + len(inner)
        sizes.append(count)
    return MeshData(list(index), loops, sizes, list(colors))


def inner_points_plain(lines, start, end):
    """Vertices strictly between `start` and `end` (an axis-aligned edge), in travel order."""
    axis = next(a for a in range(3) if start[a] != end[a])
    key = tuple(start[a] for a in range(3) if a != axis)
    values = lines[axis][key]
    low, high = sorted((start[axis], end[axis]))
    found = values[bisect_right(values, low):bisect_left(values, high)]
    if end[axis] < start[axis]:
        found = found[::-1]
    points = []
    for value in found:
        point = list(start)
        point[axis] = value
        points.append(tuple(point))
    return points


def cubes_plain(model):
    """One closed cube (8 vertices, 6 quads) per voxel."""
    verts, loops, colors = [], [], []
    raw = model.xyzi
    for i in range(0, len(raw), 4):
        x, y, z, color = raw[i], raw[i + 1], raw[i + 2], raw[i + 3]
        base = len(verts)
        verts.extend((x + (c & 1), y + ((c >> 1) & 1), z + ((c >> 2) & 1)) for c in range(8))
        for quad in CUBE_QUADS:
            loops.extend(base + c for c in quad)
            colors.append(color)
    return MeshData(verts, loops, [4] * len(colors), colors)


def cube_quads():
    """Corner numbers (bit 0: +x, bit 1: +y, bit 2: +z) of the six faces of a unit cube, wound outwards."""
    quads = []
    for axis, sign in DIRECTIONS:
        plane = 1 if sign > 0 else 0
        corners = [to_xyz(axis, plane, u, v) for u, v in corner_uv(sign, 0, 1, 0, 1)]
        quads.append(tuple(x | (y << 1) | (z << 2) for x, y, z in corners))
    return tuple(quads)


CUBE_QUADS = cube_quads()


def cube_edges():
    """The 12 corner pairs of a unit cube's edges, and the edge number of each of the 24 quad corners."""
    pairs, corner_edges = [], []
    for quad in CUBE_QUADS:
        for k, start in enumerate(quad):
            pair = tuple(sorted((start, quad[(k + 1) % 4])))
            if pair not in pairs:
                pairs.append(pair)
            corner_edges.append(pairs.index(pair))
    return tuple(pairs), tuple(corner_edges)


CUBE_EDGES = cube_edges()


def mesh_plain(model, mode):
    """The plain-Python mesher."""
    if mode == CUBES:
        return cubes_plain(model)
    outlines, colors = outline_plain(rectangles_plain(face_rows_plain(model, mode)))
    return weld_plain(outlines, colors)


# ----------------------------------------------------------------------------------------------------------------
# numpy implementation


def dense_numpy(model):
    """The model as a (sx, sy, sz) uint8 array of colour indices."""
    grid = np.zeros(model.size, dtype=np.uint8)
    raw = np.frombuffer(model.xyzi, dtype=np.uint8).reshape(-1, 4)
    grid[raw[:, 0], raw[:, 1], raw[:, 2]] = raw[:, 3]
    return grid


def exterior_numpy(grid):
    """Empty cells reachable from outside, on the grid padded by one cell (bool array).

    Sweeps along x, y and z in turn: a straight run of empty cells is exterior as soon as one of its cells is,
    which reaches every exterior cell after a few rounds (one per turn the outside has to take).
    """
    empty = np.pad(grid == 0, 1, constant_values=True)
    outside = np.zeros_like(empty)
    outside[0, :, :] = outside[-1, :, :] = True
    outside[:, 0, :] = outside[:, -1, :] = True
    outside[:, :, 0] = outside[:, :, -1] = True
    changed = True
    while changed:
        changed = False
        for axis in range(3):
            grown = sweep_runs(empty, outside, axis)
            if grown.sum() != outside.sum():
                changed = True
            outside = grown
    return outside


def sweep_runs(empty, outside, axis):
    """Marks as exterior every run of empty cells along `axis` that holds an exterior cell."""
    moved_empty = np.moveaxis(empty, axis, -1)
    moved_out = np.moveaxis(outside, axis, -1)
    flat_empty = moved_empty.reshape(-1, moved_empty.shape[-1])
    prev = np.zeros_like(flat_empty)
    prev[:, 1:] = flat_empty[:, :-1]
    starts = flat_empty & ~prev
    labels = np.cumsum(starts.ravel()).reshape(flat_empty.shape) * flat_empty
    hit = np.zeros(int(labels.max()) + 1, dtype=bool)
    hit[labels[moved_out.reshape(flat_empty.shape) & flat_empty]] = True
    hit[0] = False
    grown = (hit[labels] | moved_out.reshape(flat_empty.shape)).reshape(moved_empty.shape)
    return np.ascontiguousarray(np.moveaxis(grown, -1, axis))


def face_slices_numpy(grid, open_cells, axis, sign):
    """Colour of each exposed face of one direction, as an array ordered (slice, v, u)."""
    shifted = [slice(1, -1)] * 3
    shifted[axis] = slice(1 + sign, open_cells.shape[axis] - 1 + sign)
    faces = np.where(open_cells[tuple(shifted)], grid, 0)
    ua, va = PLANE_AXES[axis]
    return np.ascontiguousarray(faces.transpose(axis, va, ua))


def rectangles_numpy(colors):
    """Greedy rectangles of one direction: arrays slice, u0, u1, v0, v1, colour."""
    padded = np.pad(colors, ((0, 0), (0, 0), (1, 1)))
    mid = padded[:, :, 1:-1]
    starts = np.nonzero((mid != 0) & (mid != padded[:, :, :-2]))
    ends = np.nonzero((mid != 0) & (mid != padded[:, :, 2:]))
    s, v, u0 = starts
    u1 = ends[2] + 1
    c = colors[s, v, u0]
    order = np.lexsort((v, c, u1, u0, s))
    s, v, u0, u1, c = s[order], v[order], u0[order], u1[order], c[order]
    if len(s) == 0:
        return s, u0, u1, v, v, c
    begin = np.ones(len(s), dtype=bool)
    if len(s) > 1:
        same = (s[1:] == s[:-1]) & (u0[1:] == u0[:-1]) & (u1[1:] == u1[:-1]) & (c[1:] == c[:-1])
        begin[1:] = ~(same & (v[1:] == v[:-1] + 1))
    first = np.nonzero(begin)[0]
    last = np.append(first[1:] - 1, len(s) - 1).astype(np.int64)
    return s[first], u0[first], u1[first], v[first], v[last] + 1, c[first]


def outline_numpy(grid, mode):
    """Corner points (R, 4, 3) of all greedy rectangles, and their colours."""
    if mode == HULL:
        open_cells = exterior_numpy(grid)
    else:
        open_cells = np.pad(grid == 0, 1, constant_values=True)
    corners, colors = [], []
    for axis, sign in DIRECTIONS:
        s, u0, u1, v0, v1, c = rectangles_numpy(face_slices_numpy(grid, open_cells, axis, sign))
        plane = s + 1 if sign > 0 else s
        quad = np.empty((len(s), 4, 3), dtype=np.int64)
        ua, va = PLANE_AXES[axis]
        for k, (cu, cv) in enumerate(corner_uv(sign, u0, u1, v0, v1)):
            quad[:, k, axis], quad[:, k, ua], quad[:, k, va] = plane, cu, cv
        corners.append(quad)
        colors.append(c)
    return np.concatenate(corners), np.concatenate(colors)


def weld_numpy(corners, colors, size):
    """Welds equal corners and inserts the vertices lying strictly inside polygon edges (no T-junctions)."""
    dims = np.array(size, dtype=np.int64) + 1
    flat = corners.reshape(-1, 3)
    keys = (flat[:, 0] * dims[1] + flat[:, 1]) * dims[2] + flat[:, 2]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    verts = np.stack(np.unravel_index(unique_keys, tuple(dims)), axis=1)
    corner_ids = inverse.reshape(-1, 4)
    rect_count = len(corner_ids)
    start_ids = corner_ids.ravel()
    end_ids = np.roll(corner_ids, -1, axis=1).ravel()
    counts = np.zeros(len(start_ids), dtype=np.int64)
    inner_lists = [None] * 3
    for axis in range(3):
        inner_lists[axis] = edge_inner_numpy(verts, dims, start_ids, end_ids, axis, counts)
    segment = counts + 1
    offsets = np.cumsum(segment) - segment
    loops = np.empty(int(segment.sum()), dtype=np.int64)
    loops[offsets] = start_ids
    for edge_index, inner_ids, rank in inner_lists:
        loops[offsets[edge_index] + 1 + rank] = inner_ids
    sizes = segment.reshape(rect_count, 4).sum(axis=1)
    return MeshData(verts, loops, sizes, colors.astype(np.int64))


def edge_inner_numpy(verts, dims, start_ids, end_ids, axis, counts):
    """For the edges along `axis`: fills `counts` and returns (edge index, inner vertex id, rank) arrays."""
    others = [a for a in range(3) if a != axis]
    line = verts[:, others[0]] * dims[others[1]] + verts[:, others[1]]
    vkeys = line * dims[axis] + verts[:, axis]
    order = np.argsort(vkeys, kind="stable")
    sorted_keys = vkeys[order]
    edges = np.nonzero(verts[start_ids, axis] != verts[end_ids, axis])[0]
    a_keys, b_keys = vkeys[start_ids[edges]], vkeys[end_ids[edges]]
    low = np.searchsorted(sorted_keys, np.minimum(a_keys, b_keys), side="right")
    high = np.searchsorted(sorted_keys, np.maximum(a_keys, b_keys), side="left")
    count = high - low
    counts[edges] = count
    total = int(count.sum())
    edge_index = np.repeat(edges, count)
    first = np.cumsum(count) - count
    rank = np.arange(total, dtype=np.int64) - np.repeat(first, count)
    ascending = np.repeat(b_keys > a_keys, count)
    pos = np.where(ascending, np.repeat(low, count) + rank, np.repeat(high, count) - 1 - rank)
    return edge_index, order[pos], rank


def cubes_numpy(model):
    """One closed cube (8 vertices, 6 quads) per voxel."""
    raw = np.frombuffer(model.xyzi, dtype=np.uint8).reshape(-1, 4).astype(np.int64)
    bits = np.arange(8)
    offsets = np.stack([bits & 1, (bits >> 1) & 1, (bits >> 2) & 1], axis=1)
    verts = (raw[:, None, :3] + offsets[None, :, :]).reshape(-1, 3)
    quads = np.array(CUBE_QUADS, dtype=np.int64)
    loops = (np.arange(len(raw))[:, None, None] * 8 + quads[None, :, :]).ravel()
    colors = np.repeat(raw[:, 3], 6)
    cubes = np.arange(len(raw))[:, None, None]
    pairs = (cubes * 8 + np.array(CUBE_EDGES[0], dtype=np.int64)[None, :, :]).reshape(-1, 2)
    corner_edges = (cubes[:, :, 0] * 12 + np.array(CUBE_EDGES[1], dtype=np.int64)[None, :]).ravel()
    return MeshData(verts, loops, np.full(len(colors), 4, dtype=np.int64), colors, (pairs, corner_edges))


def mesh_numpy(model, mode):
    """The numpy mesher."""
    if mode == CUBES:
        return cubes_numpy(model)
    grid = dense_numpy(model)
    corners, colors = outline_numpy(grid, mode)
    if len(corners) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return MeshData(np.zeros((0, 3), dtype=np.int64), empty, empty, empty)
    return weld_numpy(corners, colors, model.size)
