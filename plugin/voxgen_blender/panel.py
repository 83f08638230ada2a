"""The voxgen sidebar panel: watch an `out/` folder for new creatures, and run `voxgen sample` (Generate).

Watching uses a `bpy.app.timers` timer that scans `OUT/generated/**/*.vox` (or `*.glb`, chosen in the panel)
every two seconds and imports the files it has not imported yet, laid out in a row along +X. Generate starts
`voxgen sample CHECKPOINT -n K -o OUT/generated/blender-TIMESTAMP` as a subprocess and polls it from a timer, so
Blender stays responsive; when it ends, its creatures are imported the same way.
"""

import glob
import os
import subprocess
import tempfile
import time
import traceback

import bpy
from bpy.app.handlers import persistent
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty
from bpy.props import StringProperty

from . import importer
from . import prefs
from . import vox_parser

WATCH_INTERVAL = 2.0
POLL_INTERVAL = 0.5
IMPORTS_PER_TICK = 8
COLLECTION_NAME = "voxgen"

# The running `voxgen sample` job, if any: process, folder, log file, scene name.
JOB = {}


class VoxgenImportedFile(bpy.types.PropertyGroup):
    """One file the panel has imported (or tried to), so it is not imported twice."""

    path: StringProperty(name="Path", description="Absolute path of an imported creature file")


def on_watch_changed(self, context):
    """Starts or stops the watch timer when the toggle changes."""
    if self.watch:
        start_watch_timer()
    elif bpy.app.timers.is_registered(watch_tick):
        bpy.app.timers.unregister(watch_tick)


class VoxgenSettings(bpy.types.PropertyGroup):
    """The panel's settings, stored in the scene."""

    out_dir: StringProperty(
        name="Output folder",
        description="voxgen's out/ folder; new creatures are looked for in its generated/ subfolders",
        subtype="DIR_PATH",
    )
    file_type: EnumProperty(
        name="Import",
        description="Which of the files voxgen writes for each creature to import",
        items=(
            ("VOX", ".vox", "MagicaVoxel files, meshed by this add-on (greedy faces, palette colours)"),
            ("GLB", ".glb", "glTF binaries meshed by voxgen, imported by Blender's glTF importer"),
        ),
        default="VOX",
    )
    watch: BoolProperty(
        name="Watch",
        description="Import new creatures as they appear in the output folder (checks every two seconds)",
        default=False,
        update=on_watch_changed,
    )
    voxel_size: FloatProperty(
        name="Voxel size",
        description="Edge length of one voxel in Blender units (for .vox imports)",
        default=0.1,
        min=0.0001,
        soft_max=10.0,
        unit="LENGTH",
    )
    spacing: FloatProperty(
        name="Spacing",
        description="Gap between creatures laid out in a row along +X",
        default=0.5,
        min=0.0,
        unit="LENGTH",
    )
    next_x: FloatProperty(
        name="Next X",
        description="Where the next imported creature starts on the X axis",
        default=0.0,
    )
    checkpoint: StringProperty(
        name="Checkpoint",
        description="A voxgen run folder (its latest checkpoint is used) or a checkpoint file",
        subtype="FILE_PATH",
    )
    count: IntProperty(
        name="Count",
        description="How many creatures Generate samples",
        default=4,
        min=1,
        max=256,
    )
    status: StringProperty(name="Status", description="What the panel did last")
    imported: CollectionProperty(type=VoxgenImportedFile, name="Imported", description="Files already imported")


# ----------------------------------------------------------------------------------------------------------------
# Finding and importing creatures


def candidate_files(folder, file_type):
    """Creature files under `folder` (recursively), oldest first."""
    pattern = "*.vox" if file_type == "VOX" else "*.glb"
    found = glob.glob(os.path.join(glob.escape(folder), "**", pattern), recursive=True)
    return sorted((os.path.abspath(p) for p in found if os.path.isfile(p)), key=sort_key)


def sort_key(path):
    """Modification time, then name (files that vanished sort first and are skipped on import)."""
    try:
        return (os.path.getmtime(path), path)
    except OSError:
        return (0.0, path)


def generated_dir(settings):
    """The absolute `generated/` folder of the configured output folder, or None when it is not set."""
    if not settings.out_dir:
        return None
    return os.path.join(bpy.path.abspath(settings.out_dir), "generated")


def new_files(settings, folder, limit=None):
    """Files under `folder` that this scene has not imported yet."""
    done = {item.path for item in settings.imported}
    fresh = [p for p in candidate_files(folder, settings.file_type) if p not in done]
    return fresh[:limit] if limit else fresh


def creature_collection(context):
    """The `voxgen` collection, made and linked to the scene when missing."""
    collection = bpy.data.collections.get(COLLECTION_NAME)
    if collection is None:
        collection = bpy.data.collections.new(COLLECTION_NAME)
    if collection.name not in context.scene.collection.children:
        context.scene.collection.children.link(collection)
    return collection


def import_creature(context, settings, path):
    """Imports one creature file into the voxgen collection and places it in the row; returns its objects."""
    collection = creature_collection(context)
    if path.lower().endswith(".glb"):
        objects = importer.import_glb(context, path, collection)
        importer.show_colors_in_solid_view(context)
    else:
        options = importer.ImportOptions(voxel_size=settings.voxel_size, origin="BOTTOM")
        objects = importer.import_vox(context, path, options, collection=collection).objects
    settings.next_x = importer.place_in_row(context, objects, settings.next_x, settings.spacing)
    return objects


def import_files(context, settings, paths):
    """Imports files, remembering each one; returns (number imported, error messages)."""
    imported, errors = 0, []
    for path in paths:
        settings.imported.add().path = path
        try:
            with WindowOverride(context):
                import_creature(context, settings, path)
            imported += 1
        except (vox_parser.VoxError, importer.ImportFailure) as err:
            errors.append(str(err))
        except Exception as err:  # a bug must not stop the timer; it is logged with its traceback
            traceback.print_exc()
            errors.append(f"{os.path.basename(path)}: unexpected error: {err}")
    return imported, errors


class WindowOverride:
    """A context manager giving operators (the glTF importer) a window when called from a timer."""

    def __init__(self, context):
        self.context = context
        self.override = None

    def __enter__(self):
        window_manager = getattr(self.context, "window_manager", None)
        windows = list(window_manager.windows) if window_manager is not None else []
        if self.context.window is None and windows and hasattr(self.context, "temp_override"):
            self.override = self.context.temp_override(window=windows[0])
            self.override.__enter__()
        return self

    def __exit__(self, *exc):
        if self.override is not None:
            self.override.__exit__(*exc)
        return False


def set_status(settings, message, error=False):
    """Records a status line in the panel and the console."""
    settings.status = message
    print(f"voxgen: {'error: ' if error else ''}{message}")
    redraw_sidebars()


def redraw_sidebars():
    """Redraws 3D View areas so the panel shows the new status."""
    window_manager = bpy.context.window_manager
    for window in getattr(window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def summary(imported, errors):
    """A one-line summary of an import batch."""
    text = f"imported {imported} creature{'s' if imported != 1 else ''}"
    if errors:
        text += f"; {len(errors)} failed: {errors[0]}"
    return text


# ----------------------------------------------------------------------------------------------------------------
# Timers


def watch_tick():
    """Timer: imports up to IMPORTS_PER_TICK new files; stops when watching was turned off."""
    context = bpy.context
    scene = context.scene
    settings = getattr(scene, "voxgen", None) if scene is not None else None
    if settings is None or not settings.watch:
        return None
    folder = generated_dir(settings)
    if folder and os.path.isdir(folder):
        paths = new_files(settings, folder, IMPORTS_PER_TICK)
        if paths:
            imported, errors = import_files(context, settings, paths)
            set_status(settings, summary(imported, errors), error=bool(errors))
    return WATCH_INTERVAL


def start_watch_timer():
    """Registers the watch timer once."""
    if not bpy.app.timers.is_registered(watch_tick):
        bpy.app.timers.register(watch_tick, first_interval=0.1)


@persistent
def restart_watch_after_load(_dummy=None):
    """After a .blend is opened: watch again if its scene was watching."""
    scene = bpy.context.scene
    if scene is not None and getattr(scene, "voxgen", None) is not None and scene.voxgen.watch:
        start_watch_timer()


def start_job(settings, binary, checkpoint, count, out_dir, scene_name):
    """Starts `voxgen sample` in the background; raises OSError when it cannot be started."""
    os.makedirs(out_dir, exist_ok=True)
    log = tempfile.NamedTemporaryFile(prefix="voxgen-sample-", suffix=".log", delete=False)
    command = [binary, "sample", checkpoint, "-n", str(count), "-o", out_dir]
    try:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError:
        log.close()
        os.unlink(log.name)
        raise
    JOB.clear()
    JOB.update(process=process, out_dir=out_dir, log=log, scene=scene_name, started=time.time())
    bpy.app.timers.register(poll_job, first_interval=POLL_INTERVAL)
    set_status(settings, f"generating {count} creature{'s' if count != 1 else ''}...")


def job_running():
    """True while a `voxgen sample` job runs."""
    return bool(JOB) and JOB["process"].poll() is None


def poll_job():
    """Timer: waits for the job; then imports its creatures, or shows why it failed."""
    if not JOB:
        return None
    process = JOB["process"]
    if process.poll() is None:
        return POLL_INTERVAL
    job = dict(JOB)
    JOB.clear()
    finish_job(job, process.returncode)
    return None


def finish_job(job, code):
    """Imports what a finished job wrote, or records its error output."""
    output = read_log(job["log"])
    scene = bpy.data.scenes.get(job["scene"]) or bpy.context.scene
    settings = scene.voxgen
    if code != 0:
        reason = last_line(output) or f"exit status {code}"
        message = f"voxgen sample failed (exit status {code}): {reason}"
        set_status(settings, message, error=True)
        show_error(message)
        return
    paths = new_files(settings, job["out_dir"])
    if not paths:
        set_status(settings, f"voxgen sample wrote no {settings.file_type.lower()} files in {job['out_dir']}", True)
        return
    imported, errors = import_files(bpy.context, settings, paths)
    set_status(settings, "generated and " + summary(imported, errors), error=bool(errors))


def read_log(log):
    """The text of a job's log file, which is then removed."""
    try:
        log.close()
        with open(log.name, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        os.unlink(log.name)
        return text
    except OSError:
        return ""


def last_line(text):
    """The last non-empty line of a program's output."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def show_error(message):
    """A popup with an error, when Blender has a window (timers cannot use Operator.report)."""
    if bpy.app.background:
        return
    window_manager = bpy.context.window_manager
    windows = list(getattr(window_manager, "windows", []))
    if not windows:
        return

    def draw(menu, _context):
        menu.layout.label(text=message)

    with bpy.context.temp_override(window=windows[0]):
        window_manager.popup_menu(draw, title="voxgen", icon="ERROR")


# ----------------------------------------------------------------------------------------------------------------
# Operators and panel


class VOXGEN_OT_import_new(bpy.types.Operator):
    """Import the creatures in the output folder that are not in the scene yet"""

    bl_idname = "voxgen.import_new"
    bl_label = "Import New Now"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        """Scans once and imports."""
        settings = context.scene.voxgen
        folder = generated_dir(settings)
        if folder is None:
            self.report({"ERROR"}, "set the output folder first")
            return {"CANCELLED"}
        if not os.path.isdir(folder):
            self.report({"ERROR"}, f"no generated/ folder in {bpy.path.abspath(settings.out_dir)}")
            return {"CANCELLED"}
        imported, errors = import_files(context, settings, new_files(settings, folder))
        for error in errors:
            self.report({"ERROR"}, error)
        set_status(settings, summary(imported, errors), error=bool(errors))
        if imported == 0 and errors:
            return {"CANCELLED"}
        self.report({"INFO"}, summary(imported, errors))
        return {"FINISHED"}


class VOXGEN_OT_generate(bpy.types.Operator):
    """Run voxgen sample with the chosen checkpoint in the background, then import the new creatures"""

    bl_idname = "voxgen.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER"}

    def execute(self, context):
        """Checks the settings and starts the job."""
        settings = context.scene.voxgen
        problem = self.check(context, settings)
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        binary = prefs.resolve_binary(prefs.voxgen_binary(context))
        checkpoint = bpy.path.abspath(settings.checkpoint)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out_dir = os.path.join(generated_dir(settings), f"blender-{stamp}")
        try:
            start_job(settings, binary, checkpoint, settings.count, out_dir, context.scene.name)
        except OSError as err:
            self.report({"ERROR"}, f"cannot start {binary}: {err.strerror or err}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"voxgen sample started, writing to {out_dir}")
        return {"FINISHED"}

    @staticmethod
    def check(context, settings):
        """Why the job cannot start, or an empty string."""
        if job_running():
            return "a Generate job is already running"
        if prefs.resolve_binary(prefs.voxgen_binary(context)) is None:
            return f"voxgen binary not found: {prefs.voxgen_binary(context)} (set it in the add-on preferences)"
        if not settings.checkpoint:
            return "choose a checkpoint (a run folder or checkpoint file) first"
        if not os.path.exists(bpy.path.abspath(settings.checkpoint)):
            return f"checkpoint not found: {bpy.path.abspath(settings.checkpoint)}"
        if generated_dir(settings) is None:
            return "set the output folder first"
        return ""


class VOXGEN_OT_cancel_generate(bpy.types.Operator):
    """Stop the running voxgen sample job"""

    bl_idname = "voxgen.cancel_generate"
    bl_label = "Cancel"
    bl_options = {"REGISTER"}

    def execute(self, context):
        """Terminates the job's process; the poll timer then reports it."""
        if not job_running():
            self.report({"ERROR"}, "no Generate job is running")
            return {"CANCELLED"}
        JOB["process"].terminate()
        self.report({"INFO"}, "voxgen sample stopped")
        return {"FINISHED"}


class VIEW3D_PT_voxgen(bpy.types.Panel):
    """The voxgen tab of the 3D View sidebar"""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "voxgen"
    bl_label = "voxgen"

    def draw(self, context):
        """Folder, watch toggle, import settings, Generate."""
        settings = context.scene.voxgen
        layout = self.layout
        layout.prop(settings, "out_dir")
        row = layout.row(align=True)
        row.prop(settings, "file_type", expand=True)
        layout.prop(settings, "voxel_size")
        layout.prop(settings, "spacing")
        row = layout.row(align=True)
        row.prop(settings, "watch", toggle=True, icon="PAUSE" if settings.watch else "PLAY",
                 text="Watching" if settings.watch else "Watch")
        row.operator(VOXGEN_OT_import_new.bl_idname, icon="IMPORT")
        box = layout.box()
        box.prop(settings, "checkpoint")
        box.prop(settings, "count")
        if job_running():
            box.operator(VOXGEN_OT_cancel_generate.bl_idname, icon="CANCEL")
        else:
            box.operator(VOXGEN_OT_generate.bl_idname, icon="PLAY")
        if settings.status:
            layout.label(text=settings.status)


def register_scene_settings():
    """Adds `Scene.voxgen` and the load handler."""
    bpy.types.Scene.voxgen = PointerProperty(type=VoxgenSettings, name="voxgen", description="voxgen panel settings")
    if restart_watch_after_load not in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.append(restart_watch_after_load)


def unregister_scene_settings():
    """Stops a running job, removes the timers, the handler and `Scene.voxgen`."""
    if job_running():
        JOB["process"].terminate()
    for timer in (watch_tick, poll_job):
        if bpy.app.timers.is_registered(timer):
            bpy.app.timers.unregister(timer)
    if restart_watch_after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(restart_watch_after_load)
    del bpy.types.Scene.voxgen


CLASSES = (VoxgenImportedFile, VoxgenSettings, VOXGEN_OT_import_new, VOXGEN_OT_generate, VOXGEN_OT_cancel_generate,
           VIEW3D_PT_voxgen)
