"""Blender tests of the add-on: install from the zip, import .vox and .glb files, the panel's watch and Generate.

Run inside Blender:      blender -b --factory-startup --python-exit-code 1 --python plugin/tests/blender_tests.py
or with the bpy module:  python3 plugin/tests/blender_tests.py      (a venv with bpy==5.0.1)
Ends with a line `RESULT passed=N failed=M skipped=K` and exits non-zero on any failure.
Environment: VOXGEN_CORPUS (the corpus), VOXGEN_GLB_DIR (real voxgen .glb and .vox outputs to import).
"""

import importlib.util
import os
import shutil
import stat
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TEMP = tempfile.mkdtemp(prefix="voxgen-blender-tests-")
if "bpy" not in sys.modules:  # the bpy module reads these at import: keep the user's Blender settings untouched
    for variable, folder in (("BLENDER_USER_SCRIPTS", "scripts"), ("BLENDER_USER_CONFIG", "config"),
                             ("BLENDER_USER_RESOURCES", "resources")):
        os.environ.setdefault(variable, os.path.join(TEMP, folder))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

import glbwriter  # noqa: E402
import support  # noqa: E402
from support import dense, exposed_face_count, noisy_sphere_vox  # noqa: E402
import voxwriter as vw  # noqa: E402

vp = support.load_module("vox_parser")
ADDON = "voxgen_blender"
BLENDER = bpy.app.version


def build_zips():
    """Builds the add-on zips (plugin/build_zip.py) into the temporary folder; returns (add-on zip, extension zip)."""
    spec = importlib.util.spec_from_file_location("voxgen_build_zip", os.path.join(support.PLUGIN_DIR, "build_zip.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(os.path.join(TEMP, "dist"))


def install_addon(zip_path):
    """Installs and enables the add-on from its zip, the way a user does."""
    bpy.ops.preferences.addon_install(filepath=zip_path, overwrite=True)
    bpy.ops.preferences.addon_enable(module=ADDON)
    if ADDON not in bpy.context.preferences.addons:
        raise RuntimeError("add-on did not enable")


LEGACY_ZIP, EXTENSION_ZIP = build_zips()
install_addon(LEGACY_ZIP)
import voxgen_blender  # noqa: E402
from voxgen_blender import importer, panel  # noqa: E402


def write(name, data):
    """Writes bytes to a file in the temporary folder; returns its path."""
    path = os.path.join(TEMP, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def new_objects(action):
    """Runs `action` and returns the objects it created."""
    before = set(bpy.data.objects)
    action()
    return [obj for obj in bpy.data.objects if obj not in before]


def import_vox(path, **options):
    """bpy.ops.import_scene.vox on one file; returns the new objects."""
    return new_objects(lambda: bpy.ops.import_scene.vox(filepath=path, **options))


def clear_scene():
    """Removes all objects, meshes, materials and collections (keeps the scene)."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    for mesh in list(bpy.data.meshes):
        bpy.data.meshes.remove(mesh)
    for material in list(bpy.data.materials):
        bpy.data.materials.remove(material)
    for collection in list(bpy.data.collections):
        bpy.data.collections.remove(collection)


def color_attribute(mesh):
    """The mesh's colour attribute (color_attributes in 3.2+, vertex_colors before)."""
    attributes = getattr(mesh, "color_attributes", None)
    if attributes is not None and len(attributes):
        return attributes[0]
    return mesh.vertex_colors[0]


def loop_colors_255(mesh):
    """Per-loop sRGB colours as integers 0..255, shape (loops, 4)."""
    attribute = color_attribute(mesh)
    values = np.zeros(len(mesh.loops) * 4, dtype=np.float32)
    name = "color_srgb" if hasattr(attribute.data[0], "color_srgb") else "color"
    attribute.data.foreach_get(name, values)
    return np.rint(values.reshape(-1, 4) * 255).astype(np.int64)


def mesh_arrays(mesh):
    """(vertex coordinates, loop vertex indices, polygon loop starts, polygon sizes, normals) as numpy arrays."""
    co = np.zeros(len(mesh.vertices) * 3, dtype=np.float64)
    mesh.vertices.foreach_get("co", co)
    loops = np.zeros(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", loops)
    starts = np.zeros(len(mesh.polygons), dtype=np.int64)
    mesh.polygons.foreach_get("loop_start", starts)
    sizes = np.zeros(len(mesh.polygons), dtype=np.int64)
    mesh.polygons.foreach_get("loop_total", sizes)
    normals = np.zeros(len(mesh.polygons) * 3, dtype=np.float64)
    mesh.polygons.foreach_get("normal", normals)
    return co.reshape(-1, 3), loops, starts, sizes, normals.reshape(-1, 3)




def check_mesh_against_model(test, mesh, model, palette, voxel_size, origin):
    """Polygon area = exposed faces; each polygon's colour = the palette colour of the voxel behind it;
    every edge is used by an even number (>= 2) of polygons."""
    grid = dense(model)
    smooth = np.zeros(len(mesh.polygons), dtype=bool)
    mesh.polygons.foreach_get("use_smooth", smooth)
    test.assertFalse(smooth.any(), "voxel faces must be flat-shaded")
    areas = np.zeros(len(mesh.polygons), dtype=np.float64)
    mesh.polygons.foreach_get("area", areas)
    test.assertAlmostEqual(areas.sum() / voxel_size ** 2, exposed_face_count(grid), delta=1e-3 * len(areas) + 1e-6)
    co, loops, starts, sizes, normals = mesh_arrays(mesh)
    corners = np.rint(co / voxel_size + np.asarray(origin)).astype(np.int64)
    if len(starts) == 0:
        return
    low = np.minimum.reduceat(corners[loops], starts, axis=0)
    axis = np.argmax(np.abs(normals), axis=1)
    positive = normals[np.arange(len(axis)), axis] > 0
    cell = low.copy()
    cell[np.arange(len(axis)), axis] -= positive.astype(np.int64)
    test.assertTrue(((cell >= 0) & (cell < np.asarray(model.size))).all())
    behind = grid[cell[:, 0], cell[:, 1], cell[:, 2]]
    test.assertTrue((behind > 0).all())
    expected = np.asarray(palette, dtype=np.int64)[behind]
    colors = loop_colors_255(mesh)
    test.assertTrue((colors[starts] == expected).all(), "polygon colours differ from the palette")
    test.assertTrue((colors == np.repeat(expected, sizes, axis=0)).all(), "a polygon has mixed corner colours")
    edge_index = np.zeros(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("edge_index", edge_index)
    uses = np.bincount(edge_index, minlength=len(mesh.edges))
    test.assertTrue(((uses >= 2) & (uses % 2 == 0)).all(), "open or odd edges")


def support_voxels(model):
    """A model's voxels as (x, y, z, colour) tuples."""
    raw = model.xyzi
    return [tuple(raw[i:i + 4]) for i in range(0, len(raw), 4)]


def world_bounds(obj):
    """World-space (min, max) of an object's mesh vertices."""
    co, *_ = mesh_arrays(obj.data)
    matrix = np.array(obj.matrix_world)
    world = co @ matrix[:3, :3].T + matrix[:3, 3]
    return world.min(axis=0), world.max(axis=0)


def expected_bounds(model, rotation, translation, voxel_size):
    """World bounds of an instance from MagicaVoxel's convention: centre = R (index + 0.5 - size // 2) + t."""
    raw = np.frombuffer(model.xyzi, dtype=np.uint8).reshape(-1, 4)[:, :3].astype(np.float64)
    local = raw + 0.5 - np.asarray(model.size) // 2
    centres = local @ np.asarray(rotation, dtype=np.float64).T + np.asarray(translation)
    return (centres.min(axis=0) - 0.5) * voxel_size, (centres.max(axis=0) + 0.5) * voxel_size


def principled(material):
    """The Principled BSDF node of a material."""
    return next(n for n in material.node_tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")


def input_value(node, *names):
    """The default value of the first existing input among `names`."""
    for name in names:
        if name in node.inputs:
            return node.inputs[name].default_value
    raise KeyError(names)


# ----------------------------------------------------------------------------------------------------------------


class RegistrationTests(unittest.TestCase):
    def test_installed_from_zip_and_enabled(self):
        self.assertIn(ADDON, bpy.context.preferences.addons)
        self.assertTrue(voxgen_blender.__file__.startswith(os.environ.get("BLENDER_USER_SCRIPTS", "/")))
        self.assertTrue(hasattr(bpy.types, "IMPORT_SCENE_OT_vox"))
        self.assertTrue(hasattr(bpy.ops.import_scene, "vox"))
        self.assertIn(voxgen_blender.menu_import, bpy.types.TOPBAR_MT_file_import._dyn_ui_initialize())
        self.assertEqual(bpy.types.VIEW3D_PT_voxgen.bl_category, "voxgen")
        self.assertTrue(hasattr(bpy.context.scene, "voxgen"))
        self.assertEqual(hasattr(bpy.types, "IO_FH_vox"), BLENDER >= (4, 1, 0))

    def test_every_property_has_a_description(self):
        owners = [bpy.ops.import_scene.vox.get_rna_type(), bpy.ops.voxgen.generate.get_rna_type(),
                  bpy.ops.import_scene.voxgen_glb.get_rna_type(),
                  bpy.ops.voxgen.import_new.get_rna_type(), panel.VoxgenSettings.bl_rna,
                  panel.VoxgenImportedFile.bl_rna, bpy.context.preferences.addons[ADDON].preferences.bl_rna]
        checked = 0
        for owner in owners:
            for prop in owner.properties:
                if prop.identifier in ("rna_type", "bl_idname", "name"):
                    continue
                self.assertTrue(prop.description, f"{owner.identifier}.{prop.identifier} has no description")
                checked += 1
        self.assertGreater(checked, 20)

    def test_import_operator_options(self):
        rna = bpy.ops.import_scene.vox.get_rna_type()
        self.assertTrue(rna.properties["filter_glob"].is_hidden)
        self.assertEqual(rna.properties["filter_glob"].default, "*.vox")
        self.assertIn("files", rna.properties)
        self.assertIn("directory", rna.properties)
        self.assertEqual(set(bpy.types.IMPORT_SCENE_OT_vox.bl_options), {"REGISTER", "UNDO"})

    def test_disable_and_enable_again(self):
        bpy.ops.preferences.addon_disable(module=ADDON)
        try:
            self.assertFalse(hasattr(bpy.types, "IMPORT_SCENE_OT_vox"))
            self.assertFalse(hasattr(bpy.types.Scene, "voxgen"))
        finally:
            bpy.ops.preferences.addon_enable(module=ADDON)
        self.assertTrue(hasattr(bpy.types, "IMPORT_SCENE_OT_vox"))

    @unittest.skipIf(BLENDER < (4, 2, 0), "extensions need Blender 4.2+")
    def test_installs_as_extension(self):
        bpy.ops.preferences.addon_disable(module=ADDON)
        module = "bl_ext.user_default." + ADDON
        try:
            bpy.ops.extensions.package_install_files(filepath=EXTENSION_ZIP, repo="user_default",
                                                     enable_on_install=True)
            self.assertIn(module, bpy.context.preferences.addons)
            self.assertTrue(hasattr(bpy.ops.import_scene, "vox"))
            self.assertEqual(bpy.context.preferences.addons[module].preferences.voxgen_path, "voxgen")
        finally:
            if module in bpy.context.preferences.addons:
                bpy.ops.preferences.addon_disable(module=module)
            bpy.ops.preferences.addon_enable(module=ADDON)
        self.assertIn(ADDON, bpy.context.preferences.addons)


class CorpusImportTests(unittest.TestCase):
    def setUp(self):
        clear_scene()

    def test_corpus_files_import_with_counts_areas_and_colours(self):
        files = support.corpus_vox_files()
        if not files:
            self.skipTest("corpus missing")
        imported = 0
        for path in files:
            try:
                scene = vp.read_file(path)
            except vp.VoxError:
                continue
            with self.subTest(path=os.path.basename(path)):
                self.check_file(path, scene)
                imported += 1
            clear_scene()
        self.assertGreaterEqual(imported, 18)

    def check_file(self, path, scene):
        size = 0.1
        objects = import_vox(path, voxel_size=size, origin="CORNER")
        stem = os.path.splitext(os.path.basename(path))[0]
        collection = bpy.data.collections.get(stem)
        self.assertIsNotNone(collection)
        meshes = [o for o in objects if o.type == "MESH"]
        empties = [o for o in objects if o.type == "EMPTY"]
        self.assertEqual(set(collection.objects), set(objects))
        self.assertEqual(len(meshes), len(scene.instances()))
        groups = sum(isinstance(n, vp.GroupNode) for n in scene.nodes.values())
        self.assertEqual(len(empties), max(groups - 1, 0) if scene.has_scene_graph() else 0)
        self.assertEqual(sum(o.hide_get() for o in meshes), sum(i.hidden for i in scene.instances()))
        checked = set()
        for obj in meshes:
            model_id = obj["vox_model"]
            if obj.data.name in checked:
                continue
            checked.add(obj.data.name)
            check_mesh_against_model(self, obj.data, scene.models[model_id], scene.palette, size, (0, 0, 0))
        self.assertEqual(len(checked), len({i.model_id for i in scene.instances()}))

    def test_real_voxgen_vox_outputs(self):
        folder = os.environ.get("VOXGEN_GLB_DIR")
        if not folder or not os.path.isdir(folder):
            print("VOXGEN_GLB_DIR not set: real voxgen .vox imports skipped")
            self.skipTest("VOXGEN_GLB_DIR not set")
        files = sorted(os.path.join(d, f) for d, _, names in os.walk(folder) for f in names if f.endswith(".vox"))
        self.assertTrue(files, f"no .vox files under {folder}")
        for path in files:
            with self.subTest(path=os.path.basename(path)):
                self.check_file(path, vp.read_file(path))
            clear_scene()

    def test_study_scene_materials(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        import_vox(os.path.join(root, "bevy_vox_scene", "study.vox"))
        names = {m.name for m in bpy.data.materials}
        self.assertTrue(any(n.startswith("vox metal") for n in names), names)
        self.assertTrue(any(n.startswith("vox glass") for n in names), names)
        self.assertTrue(any(n.startswith("vox emit") for n in names), names)


class WrittenSceneTests(unittest.TestCase):
    TURN = ((0, -1, 0), (1, 0, 0), (0, 0, 1))
    MIRROR = ((-1, 0, 0), (0, 0, 1), (0, 1, 0))

    def setUp(self):
        clear_scene()
        self.palette = [((i * 37) % 256, (i * 91) % 256, (i * 13) % 256, 255) for i in range(1, 256)]
        self.models = [((3, 4, 5), support.random_voxels((3, 4, 5), 0.6, 3, 3)),
                       ((2, 2, 1), [(0, 0, 0, 10), (1, 0, 0, 11), (1, 1, 0, 12)])]
        chunks = [vw.ntrn_chunk(0, 1), vw.ngrp_chunk(1, [2, 4, 8, 10]),
                  vw.ntrn_chunk(2, 3, 0, {"_name": "plain"}, translation=(0, 0, 0)),
                  vw.nshp_chunk(3, [0]),
                  vw.ntrn_chunk(4, 5, 0, {"_name": "arm"}, rotation=self.TURN, translation=(20, 0, 0)),
                  vw.ngrp_chunk(5, [6]),
                  vw.ntrn_chunk(6, 7, 0, {"_name": "hand"}, rotation=self.MIRROR, translation=(3, 1, 2)),
                  vw.nshp_chunk(7, [0]),
                  vw.ntrn_chunk(8, 9, 1, {"_name": "ghost"}, translation=(-10, 0, 0)),
                  vw.nshp_chunk(9, [1]),
                  vw.ntrn_chunk(10, 11, 0, {"_name": "tile"}, translation=(0, -9, 4)),
                  vw.nshp_chunk(11, [1]),
                  vw.layr_chunk(0, "main"), vw.layr_chunk(1, "off", hidden=True),
                  vw.matl_chunk(10, {"_type": "_metal", "_metal": "0.8", "_rough": "0.3"}),
                  vw.matl_chunk(11, {"_type": "_glass", "_alpha": "0.6", "_rough": "0.05", "_ior": "0.45"}),
                  vw.matl_chunk(12, {"_type": "_emit", "_emit": "0.5", "_flux": "2"}),
                  vw.imap_chunk(list(range(255, -1, -1)))]
        self.path = write("written/scene.vox", vw.vox_file(self.models, 200, self.palette, chunks))
        self.scene = vp.read_file(self.path)

    def by_name(self, objects):
        return {o.name: o for o in objects}

    def test_hierarchy_instances_and_hidden_layer(self):
        objects = self.by_name(import_vox(self.path))
        self.assertEqual(set(objects), {"plain", "arm", "hand", "ghost", "tile"})
        self.assertEqual(objects["arm"].type, "EMPTY")
        self.assertIs(objects["hand"].parent, objects["arm"])
        self.assertIs(objects["plain"].data, objects["hand"].data)
        self.assertIs(objects["ghost"].data, objects["tile"].data)
        self.assertTrue(objects["ghost"].hide_get() and objects["ghost"].hide_render)
        self.assertFalse(objects["tile"].hide_get() or objects["tile"].hide_render)
        self.assertIn("scene", bpy.data.collections)

    def test_world_positions_follow_magicavoxel_convention(self):
        for origin in ("BOTTOM", "CENTER", "CORNER"):
            for keep in (True, False):
                clear_scene()
                objects = self.by_name(import_vox(self.path, origin=origin, keep_hierarchy=keep, voxel_size=0.5))
                bpy.context.view_layer.update()
                hand_rot = vp.mat_mul(self.TURN, self.MIRROR)
                hand_t = np.add(vp.mat_vec(self.TURN, (3, 1, 2)), (20, 0, 0))
                cases = {"plain": (0, ((1, 0, 0), (0, 1, 0), (0, 0, 1)), (0, 0, 0)),
                         "hand": (0, hand_rot, hand_t),
                         "tile": (1, ((1, 0, 0), (0, 1, 0), (0, 0, 1)), (0, -9, 4))}
                for name, (model_id, rotation, translation) in cases.items():
                    low, high = world_bounds(objects[name])
                    exp_low, exp_high = expected_bounds(self.scene.models[model_id], rotation, translation, 0.5)
                    np.testing.assert_allclose(low, exp_low, atol=1e-5, err_msg=f"{name} {origin} {keep}")
                    np.testing.assert_allclose(high, exp_high, atol=1e-5, err_msg=f"{name} {origin} {keep}")
                self.assertEqual("arm" in objects, keep)

    def test_origin_options_set_the_object_pivot(self):
        objects = self.by_name(import_vox(self.path, origin="CORNER", voxel_size=1.0))
        low, _ = world_bounds(objects["plain"])
        np.testing.assert_allclose(objects["plain"].matrix_world.translation, (-1, -2, -2), atol=1e-6)
        self.assertGreaterEqual(low[0], -1 - 1e-6)
        clear_scene()
        objects = self.by_name(import_vox(self.path, origin="BOTTOM", voxel_size=1.0))
        np.testing.assert_allclose(objects["plain"].matrix_world.translation, (0.5, 0, -2), atol=1e-6)

    def test_model_without_scene_graph_sits_on_its_origin(self):
        path = write("written/single.vox", vw.vox_file([((4, 6, 3), [(0, 0, 0, 1), (3, 5, 2, 2)])]))
        for origin, low, high in (("BOTTOM", (-2, -3, 0), (2, 3, 3)), ("CENTER", (-2, -3, -1.5), (2, 3, 1.5)),
                                  ("CORNER", (0, 0, 0), (4, 6, 3))):
            clear_scene()
            (obj,) = import_vox(path, origin=origin, voxel_size=2.0)
            got_low, got_high = world_bounds(obj)
            np.testing.assert_allclose(got_low, np.multiply(low, 2.0), atol=1e-6)
            np.testing.assert_allclose(got_high, np.multiply(high, 2.0), atol=1e-6)

    def test_skip_hidden(self):
        objects = self.by_name(import_vox(self.path, hidden="SKIP"))
        self.assertNotIn("ghost", objects)
        self.assertIn("tile", objects)

    def test_meshing_modes_and_colours(self):
        for mode in ("GREEDY", "CUBES", "HULL"):
            clear_scene()
            objects = self.by_name(import_vox(self.path, meshing=mode, origin="CORNER", voxel_size=1.0))
            mesh = objects["plain"].data
            model = self.scene.models[0]
            if mode == "CUBES":
                self.assertEqual(len(mesh.polygons), 6 * model.voxel_count)
                self.assertEqual(len(mesh.edges), 12 * model.voxel_count)
                self.assertFalse(mesh.validate(verbose=False))
            elif mode == "GREEDY":
                check_mesh_against_model(self, mesh, model, self.scene.palette, 1.0, (0, 0, 0))
                self.assertFalse(mesh.validate(verbose=False))
            else:
                outside = support.exposed_faces(support_voxels(model), model.size, exterior_only=True)
                areas = np.zeros(len(mesh.polygons))
                mesh.polygons.foreach_get("area", areas)
                self.assertAlmostEqual(areas.sum(), sum(outside.values()), places=4)
                self.assertFalse(mesh.validate(verbose=False))
            colors = {tuple(c) for c in loop_colors_255(mesh)}
            used = {self.scene.palette[c] for c in model.xyzi[3::4]}
            self.assertLessEqual(colors, used)

    def test_materials_from_matl(self):
        objects = self.by_name(import_vox(self.path))
        mesh = objects["tile"].data
        materials = {m.name.split(" ")[1] if " " in m.name else m.name: m for m in mesh.materials}
        self.assertEqual(set(materials), {"metal", "glass", "emit"})
        metal, glass, emit = principled(materials["metal"]), principled(materials["glass"]), principled(
            materials["emit"])
        self.assertAlmostEqual(input_value(metal, "Metallic"), 0.8, places=5)
        self.assertAlmostEqual(input_value(metal, "Roughness"), 0.3, places=5)
        self.assertAlmostEqual(input_value(glass, "Transmission Weight", "Transmission"), 0.6, places=5)
        self.assertAlmostEqual(input_value(glass, "IOR"), 1.45, places=5)
        self.assertAlmostEqual(input_value(emit, "Emission Strength"), 2.0, places=5)
        indices = np.zeros(len(mesh.polygons), dtype=np.int64)
        mesh.polygons.foreach_get("material_index", indices)
        self.assertEqual(len(set(indices.tolist())), 3)
        for material in mesh.materials:
            self.assertTrue(importer.uses_vertex_color(material), material.name)
            links = principled(material).inputs["Base Color"].links
            self.assertEqual(links[0].from_node.bl_idname, "ShaderNodeVertexColor")
            self.assertEqual(links[0].from_node.layer_name, importer.COLOR_ATTRIBUTE)

    def test_plain_python_path_without_numpy(self):
        fast = self.by_name(import_vox(self.path, origin="CORNER", voxel_size=1.0))["plain"].data
        saved = importer.np
        importer.np = None
        try:
            slow = self.by_name(import_vox(self.path, origin="CORNER", voxel_size=1.0))["plain.001"].data
        finally:
            importer.np = saved
        self.assertIsNot(fast, slow)
        self.assertEqual(len(slow.polygons), len(fast.polygons))
        check_mesh_against_model(self, slow, self.scene.models[0], self.scene.palette, 1.0, (0, 0, 0))
        self.assertFalse(slow.validate(verbose=False))

    def test_materials_off_gives_one_vertex_colour_material(self):
        objects = self.by_name(import_vox(self.path, use_materials=False))
        self.assertEqual([m.name for m in objects["tile"].data.materials], ["vox"])

    def test_palette_in_display_order(self):
        import_vox(self.path, add_palette=True)
        palette = bpy.data.palettes["scene palette"]
        self.assertEqual(len(palette.colors), 255)
        first = [round(c * 255) for c in palette.colors[0].color]
        self.assertEqual(first, list(self.palette[254][:3]))

    def test_multiple_files_in_one_call(self):
        other = write("written/other.vox", vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])]))
        objects = new_objects(lambda: bpy.ops.import_scene.vox(
            directory=os.path.dirname(self.path), files=[{"name": "scene.vox"}, {"name": os.path.basename(other)}]))
        self.assertEqual(len(objects), 6)
        self.assertIn("other", bpy.data.collections)


class BrokenFileTests(unittest.TestCase):
    def setUp(self):
        clear_scene()

    def assert_cancelled_cleanly(self, path, fragment):
        objects_before = len(bpy.data.objects)
        collections_before = len(bpy.data.collections)
        with self.assertRaises(RuntimeError) as caught:
            bpy.ops.import_scene.vox(filepath=path)
        message = str(caught.exception)
        self.assertIn(fragment, message)
        self.assertNotIn("Traceback", message)
        self.assertEqual(len(bpy.data.objects), objects_before)
        self.assertEqual(len(bpy.data.collections), collections_before)

    def test_not_a_vox_file(self):
        path = write("broken/not.vox", b"DOOD" + bytes(100))
        self.assert_cancelled_cleanly(path, "not.vox: not a MagicaVoxel file (bad magic)")

    def test_corpus_not_a_vox(self):
        root = support.corpus_dir()
        if root is None:
            self.skipTest("corpus missing")
        self.assert_cancelled_cleanly(os.path.join(root, "dot_vox", "not_a.vox"), "not_a.vox: not a MagicaVoxel")

    def test_truncated_file(self):
        data = vw.vox_file([((4, 4, 4), support.random_voxels((4, 4, 4), 0.5, 2, 2))])
        path = write("broken/cut.vox", data[:70])
        self.assert_cancelled_cleanly(path, "cut.vox: ")

    def test_missing_file(self):
        self.assert_cancelled_cleanly(os.path.join(TEMP, "nowhere.vox"), "nowhere.vox: cannot read file")

    def test_good_file_still_imports_next_to_a_broken_one(self):
        write("mixed/bad.vox", b"VOX " + bytes(4))
        write("mixed/good.vox", vw.vox_file([((1, 1, 1), [(0, 0, 0, 1)])]))
        with self.assertRaises(RuntimeError) as caught:
            bpy.ops.import_scene.vox(directory=os.path.join(TEMP, "mixed"),
                                     files=[{"name": "bad.vox"}, {"name": "good.vox"}])
        self.assertIn("bad.vox: unsupported .vox version 0", str(caught.exception))
        self.assertIn("good", bpy.data.collections)


class GlbTests(unittest.TestCase):
    def setUp(self):
        clear_scene()
        self.collection = bpy.data.collections.new("voxgen")
        bpy.context.scene.collection.children.link(self.collection)

    def check_glb_objects(self, objects):
        meshes = [o for o in objects if o.type == "MESH"]
        self.assertTrue(meshes)
        for obj in objects:
            self.assertEqual([c.name for c in obj.users_collection], ["voxgen"])
        for obj in meshes:
            self.assertTrue(importer.color_attribute_names(obj.data), obj.name)
            self.assertTrue(obj.data.materials)
            for material in obj.data.materials:
                self.assertTrue(importer.uses_vertex_color(material), material.name)
        return meshes

    def test_tiny_glb_with_and_without_material(self):
        for with_material in (True, False):
            clear_scene()
            self.setUp()
            path = write(f"glb/box_{with_material}.glb", glbwriter.glb_bytes("creature_0", with_material))
            objects = importer.import_glb(bpy.context, path, self.collection)
            (mesh_obj,) = self.check_glb_objects(objects)
            self.assertEqual(mesh_obj.name, "creature_0")
            colors = loop_colors_255(mesh_obj.data)
            seen = {tuple(c[:3]) for c in colors}
            self.assertEqual(seen, {(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)})
            low, high = world_bounds(mesh_obj)
            np.testing.assert_allclose(low, (0, -1, 0), atol=1e-6)  # glTF Y-up -> Blender Z-up
            np.testing.assert_allclose(high, (1, 0, 1), atol=1e-6)

    def test_glb_import_operator(self):
        first = write("glb/op/a.glb", glbwriter.glb_bytes("a"))
        write("glb/op/b.glb", glbwriter.glb_bytes("b"))
        bpy.context.scene.voxgen.next_x = 0.0
        objects = new_objects(lambda: bpy.ops.import_scene.voxgen_glb(
            directory=os.path.dirname(first), files=[{"name": "a.glb"}, {"name": "b.glb"}]))
        self.assertEqual(sorted(o.name for o in self.check_glb_objects(objects)), ["a", "b"])
        bpy.context.view_layer.update()
        a, b = sorted(objects, key=lambda o: o.name)
        self.assertAlmostEqual(world_bounds(b)[0][0], world_bounds(a)[1][0] + bpy.context.scene.voxgen.spacing, 5)
        broken = write("glb/op/broken.glb", b"glTF" + bytes(30))
        with self.assertRaisesRegex(RuntimeError, "broken.glb: glTF import failed"):
            bpy.ops.import_scene.voxgen_glb(filepath=broken)

    def test_broken_glb_is_an_import_failure(self):
        path = write("glb/broken.glb", b"glTF" + bytes(30))
        with self.assertRaises(importer.ImportFailure) as caught:
            importer.import_glb(bpy.context, path, self.collection)
        self.assertTrue(str(caught.exception).startswith("broken.glb: glTF import failed"), str(caught.exception))

    def test_real_voxgen_glb_outputs(self):
        folder = os.environ.get("VOXGEN_GLB_DIR")
        if not folder or not os.path.isdir(folder):
            print("VOXGEN_GLB_DIR not set: real voxgen .glb imports skipped")
            self.skipTest("VOXGEN_GLB_DIR not set")
        files = sorted(os.path.join(d, f) for d, _, names in os.walk(folder) for f in names if f.endswith(".glb"))
        self.assertTrue(files, f"no .glb files under {folder}")
        for path in files:
            with self.subTest(path=path):
                self.check_glb_objects(importer.import_glb(bpy.context, path, self.collection))


FAKE_VOXGEN = """#!/bin/sh
# A stand-in for `voxgen sample CHECKPOINT -n K -o DIR`: records its arguments, copies a template .vox K times.
echo "$@" > "{args}"
[ "$1" = sample ] || {{ echo "error: unknown command $1" >&2; exit 2; }}
case "$2" in *bad*) echo "error: checkpoint $2: not a voxgen checkpoint" >&2; exit 2;; esac
mkdir -p "$6"
i=0
while [ $i -lt "$4" ]; do cp "{template}" "$6/creature_$i.vox"; i=$((i+1)); done
echo "wrote $4 creatures"
"""


class PanelTests(unittest.TestCase):
    def setUp(self):
        clear_scene()
        self.settings = bpy.context.scene.voxgen
        self.settings.imported.clear()
        self.settings.next_x = 0.0
        self.settings.file_type = "VOX"
        self.out = tempfile.mkdtemp(prefix="out-", dir=TEMP)
        self.settings.out_dir = self.out
        self.template = vw.vox_file([((3, 2, 4), support.random_voxels((3, 2, 4), 0.7, 3, 5))])

    def tearDown(self):
        self.settings.watch = False

    def creature(self, rel, data=None):
        return write(os.path.join(self.out, "generated", rel), data if data is not None else self.template)

    def roots(self):
        collection = bpy.data.collections.get("voxgen")
        return [o for o in collection.objects if o.parent is None] if collection else []

    def test_watch_imports_new_files_once_in_a_row(self):
        self.creature("run1/a.vox")
        self.creature("run1/deeper/b.vox")
        self.settings.watch = True
        self.assertTrue(bpy.app.timers.is_registered(panel.watch_tick))
        self.assertEqual(panel.watch_tick(), panel.WATCH_INTERVAL)
        roots = self.roots()
        self.assertEqual(len(roots), 2)
        bpy.context.view_layer.update()
        first, second = sorted(roots, key=lambda o: o.location.x)
        self.assertGreaterEqual(world_bounds(second)[0][0], world_bounds(first)[1][0] + self.settings.spacing - 1e-5)
        panel.watch_tick()
        self.assertEqual(len(self.roots()), 2)
        time.sleep(0.01)
        self.creature("run2/c.vox")
        panel.watch_tick()
        self.assertEqual(len(self.roots()), 3)
        self.assertIn("imported 1 creature", self.settings.status)
        self.settings.watch = False
        self.assertFalse(bpy.app.timers.is_registered(panel.watch_tick))
        self.assertIsNone(panel.watch_tick())

    def test_watch_glb_files(self):
        self.settings.file_type = "GLB"
        self.creature("run/x.vox")
        self.creature("run/x.glb", glbwriter.glb_bytes("x"))
        self.settings.watch = True
        panel.watch_tick()
        (root,) = self.roots()
        self.assertEqual(root.name, "x")

    def test_broken_file_is_reported_and_others_still_import(self):
        self.creature("run/a_broken.vox", b"nonsense")
        self.creature("run/b_good.vox")
        self.settings.watch = True
        panel.watch_tick()
        self.assertEqual(len(self.roots()), 1)
        self.assertIn("a_broken.vox: not a MagicaVoxel file", self.settings.status)

    def test_import_new_operator_needs_a_folder(self):
        self.settings.out_dir = ""
        with self.assertRaisesRegex(RuntimeError, "set the output folder first"):
            bpy.ops.voxgen.import_new()
        self.settings.out_dir = self.out
        self.creature("r/a.vox")
        self.assertEqual(bpy.ops.voxgen.import_new(), {"FINISHED"})
        self.assertEqual(len(self.roots()), 1)

    def fake_voxgen(self):
        template = write("fake/template.vox", self.template)
        args = os.path.join(TEMP, "fake", "args.txt")
        script = write("fake/voxgen", FAKE_VOXGEN.format(args=args, template=template).encode())
        os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
        bpy.context.preferences.addons[ADDON].preferences.voxgen_path = script
        return args

    def wait_for_job(self):
        deadline = time.time() + 30
        while panel.poll_job() is not None:
            self.assertLess(time.time(), deadline, "Generate job did not finish")
            time.sleep(0.05)

    def test_generate_runs_voxgen_and_imports(self):
        args = self.fake_voxgen()
        checkpoint = write("fake/run/model.ckpt", b"x")
        self.settings.checkpoint = checkpoint
        self.settings.count = 3
        self.assertEqual(bpy.ops.voxgen.generate(), {"FINISHED"})
        self.assertTrue(panel.job_running() or panel.JOB)
        self.wait_for_job()
        with open(args, encoding="utf-8") as handle:
            words = handle.read().split()
        self.assertEqual(words[:5], ["sample", checkpoint, "-n", "3", "-o"])
        self.assertTrue(words[5].startswith(os.path.join(self.out, "generated", "blender-")))
        self.assertEqual(len(self.roots()), 3)
        self.assertIn("generated and imported 3 creatures", self.settings.status)

    def test_generate_failure_shows_the_reason(self):
        self.fake_voxgen()
        self.settings.checkpoint = write("fake/bad.ckpt", b"x")
        self.assertEqual(bpy.ops.voxgen.generate(), {"FINISHED"})
        self.wait_for_job()
        self.assertIn("voxgen sample failed (exit status 2): error: checkpoint", self.settings.status)
        self.assertEqual(self.roots(), [])

    def test_generate_refuses_bad_settings(self):
        prefs = bpy.context.preferences.addons[ADDON].preferences
        prefs.voxgen_path = os.path.join(TEMP, "no", "voxgen")
        self.settings.checkpoint = write("fake/ok.ckpt", b"x")
        with self.assertRaisesRegex(RuntimeError, "voxgen binary not found"):
            bpy.ops.voxgen.generate()
        self.fake_voxgen()
        self.settings.checkpoint = os.path.join(TEMP, "missing.ckpt")
        with self.assertRaisesRegex(RuntimeError, "checkpoint not found"):
            bpy.ops.voxgen.generate()
        self.settings.checkpoint = ""
        with self.assertRaisesRegex(RuntimeError, "choose a checkpoint"):
            bpy.ops.voxgen.generate()


class SpeedTests(unittest.TestCase):
    def setUp(self):
        clear_scene()

    def timed_import(self, path, **options):
        start = time.perf_counter()
        objects = import_vox(path, **options)
        elapsed = time.perf_counter() - start
        faces = sum(len(o.data.polygons) for o in objects if o.type == "MESH")
        print(f"  import {os.path.basename(path)} {options}: {elapsed:.2f} s, {faces} faces "
              f"(Blender {bpy.app.version_string})")
        return elapsed, faces

    def test_largest_corpus_scene_imports_in_seconds(self):
        files = [p for p in support.corpus_vox_files() if not p.endswith("not_a.vox")]
        if not files:
            self.skipTest("corpus missing")
        largest = max(files, key=os.path.getsize)
        elapsed, _ = self.timed_import(largest)
        self.assertLess(elapsed, 20.0)

    def test_126_cubed_noisy_sphere_imports_in_seconds(self):
        path = write("speed/sphere126.vox", noisy_sphere_vox(126))
        elapsed, faces = self.timed_import(path)
        self.assertGreater(faces, 10_000)
        self.assertLess(elapsed, 30.0)



def main():
    """Runs the tests and prints the RESULT line; exits non-zero on failure."""
    print(f"Blender {bpy.app.version_string}, Python {sys.version.split()[0]}")
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - skipped
    print(f"RESULT passed={passed} failed={failed} skipped={skipped}")
    shutil.rmtree(TEMP, ignore_errors=True)
    if failed:
        sys.stdout.flush()
        raise SystemExit(1)


if __name__ == "__main__":
    main()
