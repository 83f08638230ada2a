"""Unit tests of the meshers: watertightness, no T-junctions, area and volume conservation, colours."""

import unittest
from collections import Counter

import support

vp = support.load_module("vox_parser")
meshing = support.load_module("meshing")

NUMPY = meshing.have_numpy()
if not NUMPY:
    print("numpy missing: the numpy mesher tests are skipped, the plain Python mesher is tested")


def model(size, voxels):
    """A parser Model from (x, y, z, colour) tuples."""
    return vp.Model(tuple(size), b"".join(bytes(v) for v in voxels))


def shapes():
    """Named test shapes: (size, voxels, manifold)."""
    out = {
        "single": ((1, 1, 1), [(0, 0, 0, 3)], True),
        "bar": ((5, 1, 1), [(x, 0, 0, 2) for x in range(5)], True),
        "two colours": ((4, 2, 1), [(x, y, 0, 1 + (x >= 2)) for x in range(4) for y in range(2)], True),
        "L": ((3, 3, 2), [(x, y, z, 4) for x in range(3) for y in range(3) for z in range(2) if x == 0 or y == 0],
              True),
        "step": ((4, 4, 3), [(x, y, z, 1 + x % 2) for x in range(4) for y in range(4) for z in range(3) if z <= x // 2],
                 True),
    }
    out["ball"] = support.ball_voxels(4) + (True,)
    out["hollow box"] = support.hollow_box_voxels(5) + (True,)
    for seed in range(12):
        size = (3 + seed % 4, 2 + seed % 5, 4 + seed % 3)
        out[f"random {seed}"] = (size, support.random_voxels(size, 0.35 + 0.05 * (seed % 6), 1 + seed % 4, seed),
                                 False)
    return out


def mesh_ways():
    """The implementations to test."""
    return [False, True] if NUMPY else [False]


class GreedyTests(unittest.TestCase):
    mode = meshing.GREEDY

    def meshes(self):
        for name, (size, voxels, manifold) in shapes().items():
            for use_numpy in mesh_ways():
                data = meshing.mesh_model(model(size, voxels), self.mode, use_numpy=use_numpy)
                yield f"{name} (numpy={use_numpy})", size, voxels, manifold, data

    def expected_faces(self, voxels, size):
        return support.exposed_faces(voxels, size, exterior_only=self.mode == meshing.HULL)

    def test_area_matches_exposed_faces_by_direction_and_colour(self):
        for name, size, voxels, _, data in self.meshes():
            areas = support.area_by_direction_color(data.polygons(), data.face_colors)
            expected = self.expected_faces(voxels, size)
            self.assertEqual({k: v for k, v in areas.items() if v}, dict(expected), name)

    def test_fewer_polygons_than_unit_faces(self):
        for name, size, voxels, _, data in self.meshes():
            self.assertLessEqual(data.face_count, sum(self.expected_faces(voxels, size).values()), name)

    def test_closed_and_consistently_oriented(self):
        for name, _, _, manifold, data in self.meshes():
            edges = support.directed_edges(data.polygons())
            for (a, b), count in edges.items():
                self.assertEqual(count, edges.get((b, a), 0), f"{name}: edge {a}->{b} unmatched")
                if manifold:
                    self.assertEqual(count, 1, f"{name}: edge {a}->{b} used {count} times")

    def test_every_edge_shared_by_exactly_two_faces_on_manifold_shapes(self):
        for name, _, _, manifold, data in self.meshes():
            if not manifold:
                continue
            undirected = Counter()
            for poly in data.polygons():
                for i, a in enumerate(poly):
                    undirected[frozenset((a, poly[(i + 1) % len(poly)]))] += 1
            self.assertEqual(set(undirected.values()), {2}, name)

    def test_no_t_junctions(self):
        for name, _, _, _, data in self.meshes():
            self.assertEqual(support.t_junctions(data.polygons()), [], name)

    def test_welded_vertices_are_unique(self):
        for name, _, _, _, data in self.meshes():
            points = [tuple(int(c) for c in v) for v in data.vertices]
            self.assertEqual(len(points), len(set(points)), name)
            for poly in data.polygons():
                self.assertEqual(len(poly), len(set(poly)), name)

    def test_enclosed_volume(self):
        for name, size, voxels, _, data in self.meshes():
            expected = len(voxels)
            if self.mode == meshing.HULL:
                outside = support.exterior_cells(support.occupancy(voxels), size)
                grown = (size[0] + 2) * (size[1] + 2) * (size[2] + 2)
                expected = grown - len(outside)
            self.assertAlmostEqual(support.signed_volume(data.polygons()), expected, places=6, msg=name)

    def test_polygon_colour_is_the_voxel_behind_it(self):
        for name, _, voxels, _, data in self.meshes():
            filled = support.occupancy(voxels)
            for poly, color in zip(data.polygons(), data.face_colors):
                self.assertEqual(filled.get(support.voxel_behind(poly)), int(color), name)

    @unittest.skipUnless(NUMPY, "numpy missing")
    def test_numpy_and_plain_give_the_same_polygons(self):
        def canonical(data):
            out = []
            for poly, color in zip(data.polygons(), data.face_colors):
                k = poly.index(min(poly))
                out.append((tuple(poly[k:] + poly[:k]), int(color)))
            return sorted(out)

        for name, (size, voxels, _) in shapes().items():
            plain = meshing.mesh_model(model(size, voxels), self.mode, use_numpy=False)
            fast = meshing.mesh_model(model(size, voxels), self.mode, use_numpy=True)
            self.assertEqual(canonical(plain), canonical(fast), name)


class HullTests(GreedyTests):
    mode = meshing.HULL

    def test_hull_drops_cavity_faces(self):
        size, voxels = support.hollow_box_voxels(5)
        for use_numpy in mesh_ways():
            greedy = meshing.mesh_model(model(size, voxels), meshing.GREEDY, use_numpy=use_numpy)
            hull = meshing.mesh_model(model(size, voxels), meshing.HULL, use_numpy=use_numpy)
            self.assertEqual(sum(support.area_by_direction_color(hull.polygons(), hull.face_colors).values()), 150)
            self.assertEqual(sum(support.area_by_direction_color(greedy.polygons(), greedy.face_colors).values()),
                             150 + 54)
            self.assertEqual(hull.face_count, 6)
            self.assertEqual(greedy.face_count, 12)

    def test_hull_never_has_more_area_than_greedy(self):
        for name, (size, voxels, _) in shapes().items():
            greedy = sum(support.exposed_faces(voxels, size).values())
            hull = sum(support.exposed_faces(voxels, size, exterior_only=True).values())
            self.assertLessEqual(hull, greedy, name)


class CubeTests(unittest.TestCase):
    def test_six_quads_and_eight_vertices_per_voxel(self):
        for name, (size, voxels, _) in shapes().items():
            for use_numpy in mesh_ways():
                data = meshing.mesh_model(model(size, voxels), meshing.CUBES, use_numpy=use_numpy)
                self.assertEqual(data.face_count, 6 * len(voxels), name)
                self.assertEqual(len(data.vertices), 8 * len(voxels), name)
                self.assertEqual(set(int(s) for s in data.face_sizes), {4} if voxels else set(), name)
                self.assertAlmostEqual(support.signed_volume(data.polygons()), len(voxels), places=6)
                edges = support.directed_edges(data.polygons())
                self.assertTrue(all(edges[(b, a)] == c for (a, b), c in edges.items()), name)

    @unittest.skipUnless(NUMPY, "numpy missing")
    def test_numpy_cubes_come_with_their_edges(self):
        size, voxels, _ = shapes()["random 3"]
        data = meshing.mesh_model(model(size, voxels), meshing.CUBES, use_numpy=True)
        pairs, corner_edges = data.edges
        self.assertEqual(len(pairs), 12 * len(voxels))
        verts = data.vertices
        lengths = abs(verts[pairs[:, 0]] - verts[pairs[:, 1]]).sum(axis=1)
        self.assertTrue((lengths == 1).all())
        loops = data.loops.reshape(-1, 4)
        following = loops[:, [1, 2, 3, 0]].ravel()
        expected = {frozenset(p) for p in zip(loops.ravel().tolist(), following.tolist())}
        got = {frozenset(pairs[e].tolist()) for e in corner_edges}
        self.assertEqual(got, expected)
        for corner, edge in enumerate(corner_edges):
            self.assertEqual(set(pairs[edge].tolist()), {int(loops.ravel()[corner]), int(following[corner])})

    def test_counts_order_hull_greedy_cubes(self):
        for name, (size, voxels, _) in shapes().items():
            m = model(size, voxels)
            hull = meshing.mesh_model(m, meshing.HULL, use_numpy=False)
            greedy = meshing.mesh_model(m, meshing.GREEDY, use_numpy=False)
            cubes = meshing.mesh_model(m, meshing.CUBES, use_numpy=False)
            self.assertLessEqual(hull.face_count, greedy.face_count, name)
            self.assertLessEqual(greedy.face_count, cubes.face_count, name)


class MergeTests(unittest.TestCase):
    def test_flat_plate_is_two_quads_and_four_sides(self):
        voxels = [(x, y, 0, 7) for x in range(6) for y in range(4)]
        for use_numpy in mesh_ways():
            data = meshing.mesh_model(model((6, 4, 1), voxels), meshing.GREEDY, use_numpy=use_numpy)
            self.assertEqual(data.face_count, 6)
            self.assertEqual(len(data.vertices), 8)

    def test_t_junction_is_split_into_an_ngon(self):
        # A 2x1 bar with a cube on top of its left half: the bar's top face stops at x=1, where the cube's
        # side meets the bar's long side; the long side quads must carry the vertex at x=1.
        voxels = [(0, 0, 0, 1), (1, 0, 0, 1), (0, 0, 1, 1)]
        for use_numpy in mesh_ways():
            data = meshing.mesh_model(model((2, 1, 2), voxels), meshing.GREEDY, use_numpy=use_numpy)
            sizes = sorted(int(s) for s in data.face_sizes)
            self.assertIn(5, sizes)
            self.assertEqual(support.t_junctions(data.polygons()), [])

    def test_empty_model(self):
        for mode in meshing.MODES:
            for use_numpy in mesh_ways():
                data = meshing.mesh_model(model((3, 3, 3), []), mode, use_numpy=use_numpy)
                self.assertEqual(data.face_count, 0)

    def test_unknown_mode(self):
        with self.assertRaises(ValueError):
            meshing.mesh_model(model((1, 1, 1), [(0, 0, 0, 1)]), "SPHERES")


class CorpusMeshTests(unittest.TestCase):
    def test_corpus_models_are_watertight_and_conserve_area(self):
        files = support.corpus_vox_files()
        if not files:
            self.skipTest("corpus missing")
        checked = 0
        for path in files:
            if path.endswith("not_a.vox"):
                continue
            for index, mdl in enumerate(vp.read_file(path).models):
                if mdl.voxel_count > (60_000 if NUMPY else 3_000):
                    continue
                raw = mdl.xyzi
                voxels = [tuple(raw[i:i + 4]) for i in range(0, len(raw), 4)]
                data = meshing.mesh_model(mdl, meshing.GREEDY)
                polygons = data.polygons()
                name = f"{path} model {index}"
                areas = support.area_by_direction_color(polygons, data.face_colors)
                self.assertEqual({k: v for k, v in areas.items() if v}, dict(support.exposed_faces(voxels, mdl.size)),
                                 name)
                edges = support.directed_edges(polygons)
                self.assertTrue(all(edges[(b, a)] == c for (a, b), c in edges.items()), name)
                self.assertAlmostEqual(support.signed_volume(polygons), len(voxels), places=3, msg=name)
                if mdl.voxel_count < 5_000:
                    self.assertEqual(support.t_junctions(polygons), [], name)
                checked += 1
        self.assertGreater(checked, 20)


if __name__ == "__main__":
    unittest.main()
