"""Add-on preferences: where the voxgen binary is."""

import os
import shutil

import bpy
from bpy.props import StringProperty

ADDON_ID = __package__


class VOXGEN_AP_preferences(bpy.types.AddonPreferences):
    """Settings of the voxgen add-on."""

    bl_idname = ADDON_ID

    voxgen_path: StringProperty(
        name="voxgen binary",
        description="Path of the voxgen program run by Generate (a bare name is looked up on PATH)",
        subtype="FILE_PATH",
        default="voxgen",
    )

    def draw(self, context):
        """Draws the preferences box."""
        layout = self.layout
        layout.prop(self, "voxgen_path")
        found = resolve_binary(self.voxgen_path)
        layout.label(text=f"Found: {found}" if found else "Not found: Generate will fail until this is set",
                     icon="CHECKMARK" if found else "ERROR")


def preferences(context=None):
    """This add-on's preferences, or None when the add-on is not registered under its package name."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    return addon.preferences if addon is not None else None


def voxgen_binary(context=None):
    """The configured voxgen path (possibly not existing), 'voxgen' when preferences are not available."""
    prefs = preferences(context)
    return prefs.voxgen_path if prefs is not None and prefs.voxgen_path else "voxgen"


def resolve_binary(path):
    """An absolute path of an executable voxgen, or None: a bare name is looked up on PATH."""
    if not path:
        return None
    expanded = bpy.path.abspath(os.path.expanduser(path))
    if os.sep in path or (os.altsep and os.altsep in path):
        return expanded if os.path.isfile(expanded) and os.access(expanded, os.X_OK) else None
    return shutil.which(path)
