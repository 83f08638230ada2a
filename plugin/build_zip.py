#!/usr/bin/env python3
"""Builds the installable zips of the voxgen Blender add-on.

    python3 plugin/build_zip.py [OUT_DIR]     (default: plugin/dist)

Writes two files:
  voxgen_blender-VERSION.zip            a folder voxgen_blender/ inside: Blender 3.4+ (Preferences > Add-ons >
                                        Install, or "Install from Disk" for legacy add-ons in 4.2+)
  voxgen_blender-VERSION-extension.zip  the files at the root with blender_manifest.toml: Blender 4.2+ extension
Prints the two paths.
"""

import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "voxgen_blender"
SOURCE = os.path.join(HERE, PACKAGE)


def version():
    """The add-on version from the manifest, checked against bl_info."""
    with open(os.path.join(SOURCE, "blender_manifest.toml"), encoding="utf-8") as handle:
        manifest = re.search(r'^version = "([0-9.]+)"', handle.read(), re.M).group(1)
    with open(os.path.join(SOURCE, "__init__.py"), encoding="utf-8") as handle:
        numbers = re.search(r'"version": \((\d+), (\d+), (\d+)\)', handle.read()).groups()
    if ".".join(numbers) != manifest:
        sys.exit(f"version mismatch: bl_info {'.'.join(numbers)}, blender_manifest.toml {manifest}")
    return manifest


def package_files():
    """Relative paths of the files to ship, sorted (no caches)."""
    found = []
    for folder, dirs, files in os.walk(SOURCE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                found.append(os.path.relpath(os.path.join(folder, name), SOURCE))
    return found


def write_zip(path, prefix):
    """A zip of the package files, each stored under `prefix`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in package_files():
            info = zipfile.ZipInfo(os.path.join(prefix, rel).replace(os.sep, "/"), date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(SOURCE, rel), "rb") as handle:
                archive.writestr(info, handle.read())


def build(out_dir):
    """Builds both zips into `out_dir`; returns (add-on zip, extension zip)."""
    os.makedirs(out_dir, exist_ok=True)
    number = version()
    legacy = os.path.join(out_dir, f"{PACKAGE}-{number}.zip")
    extension = os.path.join(out_dir, f"{PACKAGE}-{number}-extension.zip")
    write_zip(legacy, PACKAGE)
    write_zip(extension, "")
    return legacy, extension


def main():
    """Builds both zips into the folder given on the command line and prints their paths."""
    out_dir = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(HERE, "dist")
    for path in build(out_dir):
        print(path)


if __name__ == "__main__":
    main()
