"""Renders a MagicaVoxel .vox file to a PNG with the voxgen add-on and Blender's Workbench engine.

    blender -b --factory-startup --python plugin/tools/render_scene.py -- SCENE.vox OUT.png [options]
    .tools/bpy-venv/bin/python plugin/tools/render_scene.py SCENE.vox OUT.png [options]

Enables the add-on from plugin/voxgen_blender (nothing is installed or saved in the user's Blender settings),
imports SCENE.vox with File > Import > MagicaVoxel (greedy meshing, default options), frames every visible
object with a camera looking down at them from the front right, and renders with Workbench: studio light,
shadows, cavity and the voxel colours, on a light grey floor and background, in the Standard view transform
(the palette's colours as they are). Options: --width, --height (pixels, default 1280 x 720), --perspective
(default: orthographic), --azimuth and --elevation (degrees of the view direction), --margin (fraction of
empty border), --no-floor. Prints one line with the figures; on an error prints one line and exits with 1 (2 for bad arguments).
"""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(HERE)
ADDON = "voxgen_blender"

BACKGROUND = (0.93, 0.93, 0.93)  # sRGB world colour, seen past the floor (or with --no-floor)
FLOOR = (1.0, 1.0, 1.0)  # sRGB vertex colour; the studio light shades it to a light grey
STUDIO_LIGHT = "basic.sl"  # bundled with Blender 3.4 to 5.0: neutral and bright


class Failure(Exception):
    """An error to report on one line."""


class OneLineParser(argparse.ArgumentParser):
    """Reports a usage error on one line and exits with 2."""

    def error(self, message):
        print(f"render_scene: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def parse_args(argv):
    """The arguments after `--` (inside Blender), else all of them (the bpy module)."""
    args = argv[argv.index("--") + 1:] if "--" in argv else argv[1:]
    parser = OneLineParser(prog="render_scene.py", description="Render a .vox file to a PNG.")
    parser.add_argument("scene", help="the .vox file")
    parser.add_argument("output", help="the PNG to write")
    parser.add_argument("--width", type=int, default=1280, help="image width in pixels (default 1280)")
    parser.add_argument("--height", type=int, default=720, help="image height in pixels (default 720)")
    parser.add_argument("--perspective", action="store_true", help="perspective camera (default orthographic)")
    parser.add_argument("--azimuth", type=float, default=35.0,
                        help="degrees from the front (-Y) towards the right (+X) (default 35)")
    parser.add_argument("--elevation", type=float, default=30.0, help="degrees above the horizon (default 30)")
    parser.add_argument("--margin", type=float, default=0.06, help="empty border, fraction of the image (default 0.06)")
    parser.add_argument("--no-floor", action="store_true", help="no floor under the models")
    parsed = parser.parse_args(args)
    if not (16 <= parsed.width <= 16384 and 16 <= parsed.height <= 16384):
        parser.error("--width and --height must be between 16 and 16384")
    if not -89.0 <= parsed.elevation <= 89.0:
        parser.error("--elevation must be between -89 and 89")
    if not 0.0 <= parsed.margin < 0.45:
        parser.error("--margin must be between 0 and 0.45")
    return parsed


def srgb_to_linear(c):
    """One sRGB channel (0..1) in linear light (world colours are linear)."""
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def enable_addon():
    """Enables voxgen_blender from plugin/ in this session only; returns the package."""
    try:
        import numpy
        if "bool" not in vars(numpy):  # numpy 1.24..1.26 lack the alias older Blender scripts use
            numpy.bool = bool
    except ImportError:
        pass  # the add-on falls back to plain Python meshing
    import addon_utils
    import bpy

    bpy.context.preferences.use_preferences_save = False  # never write the user's preferences
    if PLUGIN_DIR not in sys.path:
        sys.path.insert(0, PLUGIN_DIR)
    addon_utils.enable(ADDON, default_set=True, persistent=False)
    if ADDON not in bpy.context.preferences.addons or not hasattr(bpy.ops.import_scene, "vox"):
        raise Failure(f"cannot enable the add-on from {os.path.join(PLUGIN_DIR, ADDON)}")
    return sys.modules[ADDON]


def clear_scene(bpy):
    """Removes the start-up file's objects (cube, camera, light)."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)


def import_scene(bpy, addon, path):
    """Imports the .vox file with the add-on's operator; returns the visible mesh objects."""
    if not os.path.isfile(path):
        raise Failure(f"{path}: no such file")
    try:
        addon.vox_parser.read_file(path)  # its errors are one clear line; the operator would print more
    except addon.vox_parser.VoxError as err:
        raise Failure(str(err)) from None
    before = set(bpy.data.objects)
    result = bpy.ops.import_scene.vox(filepath=os.path.abspath(path))
    if "FINISHED" not in result:
        raise Failure(f"{os.path.basename(path)}: import failed")
    bpy.context.view_layer.update()
    meshes = [o for o in bpy.data.objects if o not in before and o.type == "MESH"
              and not o.hide_render and o.visible_get() and len(o.data.vertices)]
    if not meshes:
        raise Failure(f"{os.path.basename(path)}: no visible voxels")
    for mesh in {obj.data for obj in meshes}:  # voxels are flat: in 4.1+ a mesh without sharp_face shades smooth
        if any(p.use_smooth for p in mesh.polygons):
            mesh.polygons.foreach_set("use_smooth", [False] * len(mesh.polygons))
            mesh.update()
    return meshes


def world_corners(objects):
    """The world-space corners of the objects' bounding boxes."""
    from mathutils import Vector

    return [obj.matrix_world @ Vector(corner) for obj in objects for corner in obj.bound_box]


def view_basis(azimuth, elevation):
    """Unit vectors (towards the camera, right, up) for a view from azimuth/elevation in degrees."""
    from mathutils import Vector

    az, el = math.radians(azimuth), math.radians(elevation)
    back = Vector((math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)))
    right = Vector((0.0, 0.0, 1.0)).cross(back).normalized()
    up = back.cross(right)
    return back, right, up


def add_camera(bpy, corners, args):
    """Adds a camera looking at all corners from the chosen direction, fitted to the image; returns it."""
    from mathutils import Matrix

    aspect = args.width / args.height
    back, right, up = view_basis(args.azimuth, args.elevation)
    xs = [c.dot(right) for c in corners]
    ys = [c.dot(up) for c in corners]
    ds = [c.dot(back) for c in corners]
    # the corners across the view (right, up) and along it (towards the camera)
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_w = max((max(xs) - min(xs)) / 2, (max(ys) - min(ys)) / 2 * aspect, 1e-3)
    half_w /= 1.0 - 2.0 * args.margin
    extent = max(ds) - min(ds)

    data = bpy.data.cameras.new("voxgen render")
    cam = bpy.data.objects.new("voxgen render", data)
    bpy.context.scene.collection.objects.link(cam)
    data.sensor_fit = "HORIZONTAL"
    if args.perspective:
        data.lens = 50.0
        tan_full = data.sensor_width / 2 / data.lens  # horizontal fit: lens shift is in image widths too
        tan_x = tan_full * (1.0 - 2.0 * args.margin)
        tan_y = tan_full / aspect * (1.0 - 2.0 * args.margin)
        near_d = max(ds)
        # a distance (along `back`, from the plane through the centre) that keeps every corner in the frustum ...
        dist = max(max(abs(x - cx) / tan_x, abs(y - cy) / tan_y) + d for x, y, d in zip(xs, ys, ds))
        for _ in range(30):  # ... then closer until the projected corners fill the frame, centred by lens shift
            us = [(x - cx) / (dist - d) for x, d in zip(xs, ds)]
            vs = [(y - cy) / (dist - d) for y, d in zip(ys, ds)]
            scale = max((max(us) - min(us)) / 2 / tan_x, (max(vs) - min(vs)) / 2 / tan_y, 1e-6)
            dist = near_d + (dist - near_d) * scale
            if abs(scale - 1.0) < 1e-4:
                break
        us = [(x - cx) / (dist - d) for x, d in zip(xs, ds)]
        vs = [(y - cy) / (dist - d) for y, d in zip(ys, ds)]
        data.shift_x = (max(us) + min(us)) / 2 / (2 * tan_full)
        data.shift_y = (max(vs) + min(vs)) / 2 / (2 * tan_full)
        depth = dist
        data.clip_start = max((dist - near_d) * 0.5, 1e-3)
        data.clip_end = (dist - min(ds)) * 10.0 + extent
    else:
        data.type = "ORTHO"
        data.ortho_scale = 2.0 * half_w
        depth = max(ds) + max(extent, half_w)
        data.clip_start = max((depth - max(ds)) * 0.1, 1e-3)
        data.clip_end = depth - min(ds) + 10.0 * max(extent, half_w) + 1.0
    location = right * cx + up * cy + back * depth
    rotation = Matrix((right, up, back)).transposed()  # camera looks along -Z, with +Y up
    cam.matrix_world = Matrix.Translation(location) @ rotation.to_4x4()
    bpy.context.scene.camera = cam
    return cam


def add_floor(bpy, corners):
    """A large light grey plane just under the models, to catch their shadows."""
    from mathutils import Vector

    low = Vector((min(c.x for c in corners), min(c.y for c in corners), min(c.z for c in corners)))
    high = Vector((max(c.x for c in corners), max(c.y for c in corners), max(c.z for c in corners)))
    centre = (low + high) / 2
    size = max(high.x - low.x, high.y - low.y, high.z - low.z) * 4 + 1.0
    z = low.z - 1e-4 * size
    verts = [(centre.x + sx * size, centre.y + sy * size, z) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    mesh = bpy.data.meshes.new("voxgen floor")
    mesh.from_pydata(verts, [], [(0, 1, 2, 3)])
    attribute = mesh.color_attributes.new("Color", "BYTE_COLOR", "CORNER")
    for item in attribute.data:
        if hasattr(item, "color_srgb"):
            item.color_srgb = (*FLOOR, 1.0)
        else:
            item.color = (*(srgb_to_linear(c) for c in FLOOR), 1.0)
    mesh.color_attributes.active_color = attribute
    floor = bpy.data.objects.new("voxgen floor", mesh)
    floor.display.show_shadows = False  # a shadow-casting plane shades itself in stripes
    bpy.context.scene.collection.objects.link(floor)
    return floor


def setup_render(bpy, args):
    """Workbench: studio light, shadows, cavity, colour attributes; Standard view; a light background."""
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x = args.width
    scene.render.resolution_y = args.height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.color_depth = "8"
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.5  # studio light leaves faces and floor a little dark
    scene.view_settings.gamma = 1.0
    scene.display.render_aa = "8"
    scene.display.light_direction = (-0.35, 0.8, 0.5)  # relative to the view: from above, a little to the left

    shading = scene.display.shading
    shading.light = "STUDIO"
    names = {light.name for light in bpy.context.preferences.studio_lights if light.type == "STUDIO"}
    shading.studio_light = STUDIO_LIGHT if STUDIO_LIGHT in names else "Default"
    shading.color_type = "VERTEX"
    shading.show_shadows = True
    shading.shadow_intensity = 0.35
    shading.show_cavity = True
    shading.cavity_type = "SCREEN"
    shading.cavity_ridge_factor = 0.6
    shading.cavity_valley_factor = 1.0
    shading.curvature_ridge_factor = 0.5
    shading.curvature_valley_factor = 0.7
    shading.show_specular_highlight = False
    shading.show_object_outline = False
    shading.background_type = "WORLD"

    if scene.world is None:
        scene.world = bpy.data.worlds.new("voxgen render")
    scene.world.color = tuple(srgb_to_linear(c) for c in BACKGROUND)


def output_path(output):
    """The absolute path of the PNG; its folder must exist."""
    output = os.path.abspath(output)
    folder = os.path.dirname(output)
    if not os.path.isdir(folder):
        raise Failure(f"{folder}: no such folder")
    return output


def render(bpy, output):
    """Renders the still and saves it at exactly `output` (no extension added, no `#` frame numbers)."""
    bpy.ops.render.render()
    if os.path.isfile(output):
        os.remove(output)  # so that a stale file cannot pass for this render
    try:
        bpy.data.images["Render Result"].save_render(filepath=output, scene=bpy.context.scene)
    except RuntimeError as err:
        raise Failure(f"{output}: cannot write: {str(err).strip().splitlines()[-1]}") from None
    if not os.path.isfile(output):
        raise Failure(f"{output}: render wrote nothing")
    return output


def main(argv):
    """Parses the arguments, renders, prints one line; returns the exit status."""
    args = parse_args(argv)
    try:
        import bpy
    except ImportError:
        print("render_scene: run it inside Blender (blender -b --python ... -- ARGS) or with the bpy module",
              file=sys.stderr)
        return 1
    start = time.perf_counter()
    try:
        output = output_path(args.output)
        addon = enable_addon()
        clear_scene(bpy)
        meshes = import_scene(bpy, addon, args.scene)
        imported = time.perf_counter()
        corners = world_corners(meshes)
        add_camera(bpy, corners, args)
        if not args.no_floor:
            add_floor(bpy, corners)
        setup_render(bpy, args)
        render(bpy, output)
    except Failure as err:
        print(f"render_scene: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # anything unexpected: still one line
        print(f"render_scene: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    done = time.perf_counter()
    polygons = sum(len(o.data.polygons) for o in meshes)
    print(f"render_scene: {output} {args.width}x{args.height}, {len(meshes)} objects, {polygons} polygons, "
          f"Blender {bpy.app.version_string}: import {imported - start:.2f} s, render {done - imported:.2f} s")
    return 0


if __name__ == "__main__":
    status = main(sys.argv)
    if status:
        sys.exit(status)  # Blender exits with it too (it would otherwise go on to quit with 0)
