"""Import timings of the add-on: the largest corpus .vox scenes and a synthetic 126^3 noisy sphere, per meshing mode.

    blender -b --factory-startup --python plugin/tests/bench_import.py
    .tools/bpy-venv/bin/python plugin/tests/bench_import.py

Prints one line per import: seconds, objects, polygons, vertices, and the unit faces a per-face importer would make.
"""

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

import support  # noqa: E402
from support import dense, exposed_face_count, noisy_sphere_vox  # noqa: E402

import voxgen_blender  # noqa: E402
from voxgen_blender import vox_parser  # noqa: E402


def clear():
    """Empties the file."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    for mesh in list(bpy.data.meshes):
        bpy.data.meshes.remove(mesh)


def bench(path, mode):
    """Imports one file with one meshing mode and prints the figures."""
    clear()
    scene = vox_parser.read_file(path)
    unit_faces = sum(exposed_face_count(dense(scene.models[i.model_id])) for i in scene.instances())
    start = time.perf_counter()
    bpy.ops.import_scene.vox(filepath=path, meshing=mode)
    elapsed = time.perf_counter() - start
    meshes = [o for o in bpy.data.objects if o.type == "MESH"]
    polygons = sum(len(o.data.polygons) for o in meshes)
    vertices = sum(len(o.data.vertices) for o in meshes)
    voxels = sum(scene.models[i.model_id].voxel_count for i in scene.instances())
    print(f"{os.path.basename(path):22} {mode:6} {elapsed:7.2f} s  {len(meshes):4} objects  {voxels:9} voxels  "
          f"{polygons:9} polygons  {vertices:9} vertices  ({unit_faces} unit faces)", flush=True)


def main():
    """Runs the benchmark."""
    voxgen_blender.register()
    print(f"Blender {bpy.app.version_string}, numpy {np.__version__}")
    files = sorted((p for p in support.corpus_vox_files() if not p.endswith("not_a.vox")), key=os.path.getsize)
    sphere = os.path.join(tempfile.mkdtemp(), "sphere126.vox")
    with open(sphere, "wb") as handle:
        handle.write(noisy_sphere_vox(126))
    for path in files[-2:] + [sphere]:
        for mode in ("GREEDY", "HULL", "CUBES"):
            bench(path, mode)
    voxgen_blender.unregister()


if __name__ == "__main__":
    main()
