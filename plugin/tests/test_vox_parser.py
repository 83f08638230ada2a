"""Unit tests of the .vox parser (plain Python, no bpy)."""

import itertools
import json
import os
import random
import shutil
import struct
import subprocess
import unittest

import support
import voxwriter as vw

vp = support.load_module("vox_parser")

IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


def all_signed_permutations():
    """The 48 signed permutation matrices (rotations and mirrors)."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            out.append(tuple(tuple(signs[r] if c == perm[r] else 0 for c in range(3)) for r in range(3)))
    return out


class ChunkTests(unittest.TestCase):
    def test_models_and_voxels_round_trip(self):
        voxels = [(0, 0, 0, 1), (2, 1, 0, 7), (2, 1, 3, 255)]
        data = vw.vox_file([((3, 2, 4), voxels), ((1, 1, 1), [(0, 0, 0, 9)])])
        scene = vp.parse_bytes(data, "two.vox")
        self.assertEqual(len(scene.models), 2)
        self.assertEqual(scene.models[0].size, (3, 2, 4))
        self.assertEqual(scene.models[1].size, (1, 1, 1))
        raw = scene.models[0].xyzi
        self.assertEqual([tuple(raw[i:i + 4]) for i in range(0, len(raw), 4)], voxels)
        self.assertEqual(scene.models[1].voxel_count, 1)
        self.assertEqual(scene.warnings, [])

    def test_palette_entry_i_is_colour_index_i_plus_one(self):
        colors = [(i, 255 - i, (3 * i) % 256, 255) for i in range(1, 256)]
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], palette=colors), "p.vox")
        self.assertTrue(scene.has_palette)
        self.assertEqual(scene.color(1), colors[0])
        self.assertEqual(scene.color(200), colors[199])
        self.assertEqual(scene.color(255), colors[254])
        self.assertEqual(scene.palette[0], (0, 0, 0, 0))
        self.assertEqual(len(scene.palette), 256)

    def test_unknown_chunks_are_skipped(self):
        extra = [vw.chunk(b"rOBJ", vw.vdict({"_type": "_bg"})), vw.chunk(b"NOTE", struct.pack("<i", 0))]
        scene = vp.parse_bytes(vw.vox_file([((2, 2, 2), [(1, 1, 1, 3)])], extra=extra), "u.vox")
        self.assertEqual(scene.models[0].voxel_count, 1)

    def test_versions_150_and_200_read_the_same(self):
        chunks = vw.scene_chunks([{"model": 0, "translation": (4, 5, 6)}], [(0, "base", False)])
        a = vp.parse_bytes(vw.vox_file([((2, 3, 4), [(1, 2, 3, 4)])], 150, extra=chunks), "a.vox")
        b = vp.parse_bytes(vw.vox_file([((2, 3, 4), [(1, 2, 3, 4)])], 200, extra=chunks), "b.vox")
        self.assertEqual((a.version, b.version), (150, 200))
        self.assertEqual(a.models, b.models)
        self.assertEqual(a.instances(), b.instances())

    def test_other_versions_are_refused(self):
        data = vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], version=151)
        with self.assertRaisesRegex(vp.VoxError, r"^v\.vox: unsupported \.vox version 151"):
            vp.parse_bytes(data, "v.vox")


class PaletteTests(unittest.TestCase):
    def test_default_palette_when_the_file_has_none(self):
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])]), "d.vox")
        self.assertFalse(scene.has_palette)
        self.assertEqual(scene.palette, vp.default_palette())

    def test_default_palette_values(self):
        pal = vp.default_palette()
        self.assertEqual(len(pal), 256)
        self.assertEqual(pal[1], (255, 255, 255, 255))
        self.assertEqual(pal[2], (255, 255, 204, 255))
        self.assertEqual(pal[7], (255, 204, 255, 255))
        self.assertEqual(pal[215], (0, 0, 51, 255))
        self.assertEqual(pal[216], (238, 0, 0, 255))
        self.assertEqual(pal[226], (0, 238, 0, 255))
        self.assertEqual(pal[236], (0, 0, 238, 255))
        self.assertEqual(pal[246], (238, 238, 238, 255))
        self.assertEqual(pal[255], (17, 17, 17, 255))
        self.assertEqual(len(set(pal[1:])), 255)

    def test_default_palette_matches_magicavoxel_file(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        scene = vp.read_file(os.path.join(root, "vox-format", "test_single_model_default_palette.vox"))
        self.assertTrue(scene.has_palette)
        self.assertEqual(scene.palette, vp.default_palette())

    def test_corpus_file_without_rgba_uses_default_palette(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        scene = vp.read_file(os.path.join(root, "mmmm", "vox", "chr_mayor.vox"))
        self.assertFalse(scene.has_palette)
        self.assertEqual(scene.palette, vp.default_palette())

    def test_imap_gives_display_order(self):
        order = list(range(255, -1, -1))
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], extra=[vw.imap_chunk(order)]), "i.vox")
        self.assertEqual(scene.imap, order)
        self.assertEqual(scene.display_order(), list(range(255, 0, -1)))

    def test_no_imap_means_natural_order(self):
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])]), "n.vox")
        self.assertEqual(scene.display_order(), list(range(1, 256)))

    def test_corpus_imap(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        scene = vp.read_file(os.path.join(root, "opengametools", "test_multiple_model_scene.vox"))
        self.assertEqual(len(scene.imap), 256)
        self.assertEqual(sorted(scene.imap), list(range(256)))


class MaterialTests(unittest.TestCase):
    def test_matl_dictionaries_by_colour_index(self):
        extra = [vw.matl_chunk(5, {"_type": "_metal", "_metal": "0.8", "_rough": "0.2"}),
                 vw.matl_chunk(6, {"_type": "_glass", "_alpha": "0.5", "_ior": "0.45"}),
                 vw.matl_chunk(7, {"_type": "_emit", "_emit": "0.7", "_flux": "2"}),
                 vw.matl_chunk(256, {"_type": "_diffuse"})]
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 5)])], extra=extra), "m.vox")
        self.assertEqual(scene.materials[5], {"_type": "_metal", "_metal": "0.8", "_rough": "0.2"})
        self.assertEqual(scene.materials[6]["_alpha"], "0.5")
        self.assertEqual(scene.materials[7]["_flux"], "2")
        self.assertEqual(scene.materials[0], {"_type": "_diffuse"})

    def test_older_matt_chunk(self):
        body = struct.pack("<iifi", 9, 1, 0.75, 0b10) + struct.pack("<f", 0.25)
        extra = [vw.chunk(b"MATT", body)]
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 9)])], extra=extra), "t.vox")
        self.assertEqual(scene.materials[9], {"_type": "_metal", "_weight": "0.75", "_rough": "0.25", "_metal": "0.75"})

    def test_corpus_materials(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        scene = vp.read_file(os.path.join(root, "bevy_vox_scene", "study.vox"))
        kinds = {props.get("_type") for props in scene.materials.values()}
        self.assertTrue({"_glass", "_emit", "_metal", "_diffuse"} <= kinds)


class SceneGraphTests(unittest.TestCase):
    def test_rotation_byte_round_trip_for_all_48_matrices(self):
        for matrix in all_signed_permutations():
            self.assertEqual(vp.decode_rotation(vw.encode_rotation(matrix)), matrix)

    def test_rotation_byte_known_values(self):
        self.assertEqual(vp.decode_rotation(4), IDENTITY)
        self.assertEqual(vp.decode_rotation(0b0100 | (1 << 4)), ((-1, 0, 0), (0, 1, 0), (0, 0, 1)))
        self.assertEqual(vp.decode_rotation(0b0001 | (0 << 2)), ((0, 1, 0), (1, 0, 0), (0, 0, 1)))

    def test_invalid_rotation_byte(self):
        data = vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], extra=[
            vw.chunk(b"nTRN", struct.pack("<i", 0) + vw.vdict({}) + struct.pack("<iiii", 1, -1, 0, 1)
                     + vw.vdict({"_r": "15"}))])
        with self.assertRaisesRegex(vp.VoxError, "r.vox: .*bad transform in node 0"):
            vp.parse_bytes(data, "r.vox")

    def test_instances_flatten_translation_and_rotation(self):
        turn = ((0, -1, 0), (1, 0, 0), (0, 0, 1))
        chunks = [vw.ntrn_chunk(0, 1), vw.ngrp_chunk(1, [2, 6]),
                  vw.ntrn_chunk(2, 3, 0, {"_name": "arm"}, rotation=turn, translation=(10, 0, 0)),
                  vw.ngrp_chunk(3, [4]),
                  vw.ntrn_chunk(4, 5, 0, {"_name": "hand"}, translation=(1, 2, 3)),
                  vw.nshp_chunk(5, [0]),
                  vw.ntrn_chunk(6, 7, 0, translation=(-5, -6, -7)),
                  vw.nshp_chunk(7, [0])]
        scene = vp.parse_bytes(vw.vox_file([((2, 2, 2), [(0, 0, 0, 1)])], extra=chunks), "g.vox")
        hand, other = scene.instances()
        self.assertEqual(hand.rotation, turn)
        self.assertEqual(hand.translation, (10 - 2, 1, 3))
        self.assertEqual(hand.name, "hand")
        self.assertEqual(other.rotation, IDENTITY)
        self.assertEqual(other.translation, (-5, -6, -7))
        self.assertEqual((hand.model_id, other.model_id), (0, 0))

    def test_shared_instances(self):
        chunks = vw.scene_chunks([{"model": 1}, {"model": 0}, {"model": 1, "translation": (8, 0, 0)}])
        models = [((1, 1, 1), [(0, 0, 0, 1)]), ((2, 1, 1), [(1, 0, 0, 2)])]
        scene = vp.parse_bytes(vw.vox_file(models, extra=chunks), "s.vox")
        self.assertEqual([i.model_id for i in scene.instances()], [1, 0, 1])

    def test_hidden_layers_and_nodes(self):
        chunks = vw.scene_chunks([{"model": 0, "layer": 0}, {"model": 0, "layer": 1}, {"model": 0, "hidden": True}],
                                 [(0, "shown", False), (1, "off", True)])
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], extra=chunks), "h.vox")
        self.assertEqual([i.hidden for i in scene.instances()], [False, True, True])
        self.assertEqual(scene.layers[1].name, "off")
        self.assertTrue(scene.layers[1].hidden)

    def test_file_without_scene_graph_has_one_instance_per_model(self):
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])] * 3), "p.vox")
        self.assertFalse(scene.has_scene_graph())
        self.assertEqual([i.model_id for i in scene.instances()], [0, 1, 2])

    def test_cycle_is_a_warning_not_a_hang(self):
        chunks = [vw.ntrn_chunk(0, 1), vw.ngrp_chunk(1, [0])]
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], extra=chunks), "c.vox")
        self.assertEqual(scene.instances(), [])
        self.assertTrue(any("cycle" in w for w in scene.warnings))

    def test_missing_model_reference_is_dropped_with_warning(self):
        chunks = vw.scene_chunks([{"model": 0}, {"model": 4}])
        scene = vp.parse_bytes(vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])], extra=chunks), "m.vox")
        self.assertEqual([i.model_id for i in scene.instances()], [0])
        self.assertTrue(any("missing model" in w for w in scene.warnings))


class ErrorTests(unittest.TestCase):
    def valid(self):
        chunks = vw.scene_chunks([{"model": 0, "translation": (1, 2, 3)}], [(0, "a", False)])
        chunks.append(vw.matl_chunk(1, {"_type": "_metal"}))
        return vw.vox_file([((3, 3, 3), support.random_voxels((3, 3, 3), 0.5, 4, 1))], palette=[(1, 2, 3, 255)] * 255,
                           extra=chunks)

    def test_bad_magic(self):
        with self.assertRaisesRegex(vp.VoxError, r"^x\.vox: not a MagicaVoxel file \(bad magic\)$"):
            vp.parse_bytes(b"DOOD" + bytes(40), "x.vox")

    def test_missing_file_is_a_vox_error(self):
        with self.assertRaisesRegex(vp.VoxError, "^nowhere.vox: cannot read file"):
            vp.read_file("/nonexistent/nowhere.vox")

    def test_truncated_file(self):
        data = self.valid()
        with self.assertRaisesRegex(vp.VoxError, "^t.vox: "):
            vp.parse_bytes(data[:60], "t.vox")

    def test_xyzi_without_size(self):
        data = b"VOX " + struct.pack("<i", 150) + vw.chunk(b"MAIN", b"", vw.xyzi_chunk([(0, 0, 0, 1)]))
        with self.assertRaisesRegex(vp.VoxError, "without a SIZE chunk"):
            vp.parse_bytes(data, "z.vox")

    def test_voxels_outside_the_model_are_dropped(self):
        scene = vp.parse_bytes(vw.vox_file([((2, 2, 2), [(0, 0, 0, 1), (5, 0, 0, 1), (1, 1, 1, 0)])]), "o.vox")
        self.assertEqual(scene.models[0].voxel_count, 1)
        self.assertEqual(len(scene.warnings), 1)

    def test_random_damage_raises_only_vox_error(self):
        data = self.valid()
        rng = random.Random(7)
        for trial in range(400):
            damaged = bytearray(data)
            if trial % 2:
                damaged = damaged[:rng.randrange(len(damaged))]
            else:
                for _ in range(rng.randint(1, 6)):
                    damaged[rng.randrange(8, len(damaged))] = rng.randrange(256)
            try:
                scene = vp.parse_bytes(bytes(damaged), "f.vox")
                scene.instances()
            except vp.VoxError as err:
                self.assertTrue(str(err).startswith("f.vox: "), str(err))
                self.assertFalse(str(err).endswith("."), str(err))


class CorpusTests(unittest.TestCase):
    def setUp(self):
        self.root = support.corpus_dir()
        if self.root is None:
            self.skipTest("corpus missing")

    def read(self, *parts):
        return vp.read_file(os.path.join(self.root, *parts))

    def test_every_corpus_file_reads_or_fails_cleanly(self):
        files = support.corpus_vox_files()
        self.assertGreaterEqual(len(files), 20)
        for path in files:
            if path.endswith("not_a.vox"):
                with self.assertRaises(vp.VoxError):
                    vp.read_file(path)
                continue
            scene = vp.read_file(path)
            self.assertEqual(scene.warnings, [], path)
            for inst in scene.instances():
                self.assertLess(inst.model_id, len(scene.models))

    def test_counts_stated_in_corpus_sources(self):
        scene = self.read("opengametools", "test_multiple_model_scene.vox")
        self.assertEqual(len(scene.models), 41)
        self.assertEqual(sum(isinstance(n, vp.TransformNode) for n in scene.nodes.values()), 105)
        scene = self.read("bevy_vox_scene", "study.vox")
        self.assertEqual(len(scene.models), 16)
        self.assertEqual(sum(isinstance(n, vp.TransformNode) for n in scene.nodes.values()), 58)
        self.assertEqual(sum(isinstance(n, vp.GroupNode) for n in scene.nodes.values()), 4)
        scene = self.read("dot_vox", "axes.vox")
        self.assertEqual((scene.version, len(scene.models)), (200, 4))
        self.assertEqual(self.read("mmmm", "vox", "scene_park.vox").models[0].size, (126, 126, 32))
        self.assertEqual(self.read("mmmm", "vox", "alien_saucer2a.vox").models[0].size, (48, 48, 18))
        self.assertEqual(self.read("mmmm", "vox", "alien_crawl1.vox").models[0].size[2], 1)
        self.assertEqual(self.read("dot_vox", "single-voxel-with-material.vox").models[0].voxel_count, 1)
        self.assertEqual(self.read("vox-format", "test_no_models.vox").models, [])

    def test_agrees_with_independent_reader(self):
        node = shutil.which("node")
        module = os.path.join(support.REPO_DIR, ".tools", "node_modules", "vox-reader")
        if node is None or not os.path.isdir(module):
            print("node or .tools/node_modules/vox-reader missing: cross-check skipped")
            self.skipTest("vox-reader missing")
        script = ("const r=require(process.argv[1]);const v=r(require('fs').readFileSync(process.argv[2]));"
                  "const a=x=>x===undefined?[]:Array.isArray(x)?x:[x];"
                  "console.log(JSON.stringify({s:a(v.size),x:a(v.xyzi).map(m=>m.values.map(p=>[p.x,p.y,p.z,p.i])),"
                  "c:v.rgba?v.rgba.values.map(c=>[c.r,c.g,c.b,c.a]):null}))")
        checked = 0
        for path in support.corpus_vox_files():
            if path.endswith("not_a.vox") or os.path.getsize(path) > 300_000:
                continue
            out = subprocess.run([node, "-e", script, module, path], capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            theirs = json.loads(out.stdout)
            ours = vp.read_file(path)
            self.assertEqual([list(m.size) for m in ours.models], [[s["x"], s["y"], s["z"]] for s in theirs["s"]])
            for model, voxels in zip(ours.models, theirs["x"]):
                raw = model.xyzi
                self.assertEqual([list(raw[i:i + 4]) for i in range(0, len(raw), 4)], voxels, path)
            if theirs["c"] is not None:
                self.assertEqual([list(c) for c in ours.palette[1:]], theirs["c"][:255], path)
            checked += 1
        self.assertGreater(checked, 10)


if __name__ == "__main__":
    unittest.main()
