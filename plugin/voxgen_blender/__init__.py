"""voxgen for Blender: import MagicaVoxel .vox files (and voxgen's .glb outputs), watch and generate creatures.

File > Import > MagicaVoxel (.vox) reads versions 150 and 200 with their scene graph, palette and materials, and
meshes them with greedy watertight faces (no T-junctions), one cube per voxel, or the outer hull only. The
sidebar tab "voxgen" in the 3D View watches a voxgen out/ folder and runs `voxgen sample`.
"""

import os
import traceback

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from . import importer
from . import meshing
from . import panel
from . import prefs
from . import vox_parser

bl_info = {
    "name": "voxgen: MagicaVoxel (.vox) importer and creature generator",
    "author": "voxgen developers",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "File > Import > MagicaVoxel (.vox); 3D View > Sidebar > voxgen",
    "description": "Fast watertight .vox import with scene graph and materials; watch and run voxgen",
    "category": "Import-Export",
}


def selected_paths(operator):
    """The files chosen in an import operator: several from `files` + `directory`, or the single `filepath`."""
    names = [f.name for f in operator.files if f.name]
    if names and operator.directory:
        return [os.path.join(operator.directory, name) for name in names]
    return [operator.filepath]


class IMPORT_SCENE_OT_vox(bpy.types.Operator, ImportHelper):
    """Import MagicaVoxel .vox files (versions 150 and 200, with scene graph, palette and materials)"""

    bl_idname = "import_scene.vox"
    bl_label = "Import MagicaVoxel"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".vox"
    filter_glob: StringProperty(
        default="*.vox",
        options={"HIDDEN"},
        description="File name patterns shown in the file browser",
    )
    files: CollectionProperty(
        type=bpy.types.OperatorFileListElement,
        options={"HIDDEN", "SKIP_SAVE"},
        description="The .vox files to import (all files selected in the browser)",
    )
    directory: StringProperty(
        subtype="DIR_PATH",
        options={"HIDDEN", "SKIP_SAVE"},
        description="Folder holding the selected files",
    )
    meshing: EnumProperty(
        name="Meshing",
        description="How voxels become polygons",
        items=(
            (meshing.GREEDY, "Greedy faces", "Merge exposed faces of one colour into large watertight polygons"),
            (meshing.CUBES, "Cubes", "One separate cube per voxel (many polygons; for editing voxel by voxel)"),
            (meshing.HULL, "Outer hull", "Only the faces reachable from outside, merged greedily (no cavities)"),
        ),
        default=meshing.GREEDY,
    )
    voxel_size: FloatProperty(
        name="Voxel Size",
        description="Edge length of one voxel in Blender units",
        default=0.1,
        min=0.0001,
        soft_max=10.0,
        unit="LENGTH",
    )
    origin: EnumProperty(
        name="Origin",
        description="Where each model's object origin sits (files without scene graph are placed by it too)",
        items=(
            ("BOTTOM", "Bottom centre", "Centre of the model's bottom face"),
            ("CENTER", "Centre", "Centre of the model's bounding box"),
            ("CORNER", "Corner", "The model's minimum corner (voxel 0, 0, 0)"),
        ),
        default="BOTTOM",
    )
    hidden: EnumProperty(
        name="Hidden",
        description="What to do with models on hidden layers or hidden in MagicaVoxel",
        items=(
            ("HIDE", "Import hidden", "Import them, hidden in the viewport and in renders"),
            ("SKIP", "Skip", "Do not import them"),
        ),
        default="HIDE",
    )
    keep_hierarchy: BoolProperty(
        name="Keep Groups",
        description="Turn scene-graph groups into empties parenting their models (off: flat list of objects)",
        default=True,
    )
    use_materials: BoolProperty(
        name="Materials",
        description="Make metal, glass and emissive materials from the file's MATL settings",
        default=True,
    )
    add_palette: BoolProperty(
        name="Add Palette",
        description="Add the file's colours as a Blender palette, in MagicaVoxel's display order",
        default=False,
    )
    show_colors: BoolProperty(
        name="Colours in Solid View",
        description="Set the 3D Views' Solid shading to show colour attributes, so the voxel colours show at once",
        default=True,
    )

    def import_options(self):
        """The import settings chosen in the file browser."""
        return importer.ImportOptions(
            mode=self.meshing,
            voxel_size=self.voxel_size,
            origin=self.origin,
            hidden=self.hidden,
            keep_hierarchy=self.keep_hierarchy,
            use_materials=self.use_materials,
            add_palette=self.add_palette,
            show_colors=self.show_colors,
        )

    def execute(self, context):
        """Imports every selected file; a file that fails is reported and the others still import."""
        imported = 0
        for path in selected_paths(self):
            if self.import_one(context, path):
                imported += 1
        return {"FINISHED"} if imported else {"CANCELLED"}

    def import_one(self, context, path):
        """Imports one file; reports its warnings or its error. Returns True on success."""
        try:
            result = importer.import_vox(context, path, self.import_options())
        except vox_parser.VoxError as err:
            self.report({"ERROR"}, str(err))
            return False
        except Exception as err:  # never show a traceback to the user; keep it in the console
            traceback.print_exc()
            self.report({"ERROR"}, f"{os.path.basename(path)}: import failed: {err}")
            return False
        for warning in result.warnings:
            self.report({"WARNING"}, f"{os.path.basename(path)}: {warning}")
        self.report({"INFO"}, f"{os.path.basename(path)}: {len(result.objects)} objects")
        return True


class IMPORT_SCENE_OT_voxgen_glb(bpy.types.Operator, ImportHelper):
    """Import voxgen creatures (.glb) with Blender's glTF importer, with materials showing their vertex colours"""

    bl_idname = "import_scene.voxgen_glb"
    bl_label = "Import voxgen Creatures"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".glb"
    filter_glob: StringProperty(
        default="*.glb",
        options={"HIDDEN"},
        description="File name patterns shown in the file browser",
    )
    files: CollectionProperty(
        type=bpy.types.OperatorFileListElement,
        options={"HIDDEN", "SKIP_SAVE"},
        description="The .glb files to import (all files selected in the browser)",
    )
    directory: StringProperty(
        subtype="DIR_PATH",
        options={"HIDDEN", "SKIP_SAVE"},
        description="Folder holding the selected files",
    )

    def execute(self, context):
        """Imports each file into the voxgen collection, laid out in a row like the panel does."""
        imported = 0
        for path in selected_paths(self):
            try:
                panel.import_creature(context, context.scene.voxgen, path)
                imported += 1
            except importer.ImportFailure as err:
                self.report({"ERROR"}, str(err))
        return {"FINISHED"} if imported else {"CANCELLED"}


def menu_import(self, context):
    """File > Import entries."""
    self.layout.operator(IMPORT_SCENE_OT_vox.bl_idname, text="MagicaVoxel (.vox)")
    self.layout.operator(IMPORT_SCENE_OT_voxgen_glb.bl_idname, text="voxgen Creatures (.glb)")


def file_handler_class():
    """Drag and drop of .vox files into the 3D View (Blender 4.1+), or None on older versions."""
    if not hasattr(bpy.types, "FileHandler"):
        return None

    class IO_FH_vox(bpy.types.FileHandler):
        """Drop .vox files to import them"""

        bl_idname = "IO_FH_vox"
        bl_label = "MagicaVoxel"
        bl_import_operator = IMPORT_SCENE_OT_vox.bl_idname
        bl_file_extensions = ".vox"

        @classmethod
        def poll_drop(cls, context):
            """Accepts drops on the 3D View and the outliner."""
            return context.area is not None and context.area.type in {"VIEW_3D", "OUTLINER"}

    return IO_FH_vox


classes = (prefs.VOXGEN_AP_preferences, IMPORT_SCENE_OT_vox, IMPORT_SCENE_OT_voxgen_glb) + panel.CLASSES
handler = file_handler_class()
if handler is not None:
    classes += (handler,)


def register():
    """Registers the classes in order, the scene settings and the menu entry."""
    for cls in classes:
        bpy.utils.register_class(cls)
    panel.register_scene_settings()
    bpy.types.TOPBAR_MT_file_import.append(menu_import)


def unregister():
    """Undoes register() in reverse order."""
    bpy.types.TOPBAR_MT_file_import.remove(menu_import)
    panel.unregister_scene_settings()
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
