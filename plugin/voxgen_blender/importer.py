"""Builds Blender data from parsed .vox scenes, and imports voxgen's .glb files through Blender's glTF importer.

Meshes are filled with `foreach_set` from flat arrays (numpy when it is there), never one voxel or polygon at a
time. Each model becomes one mesh; every placement of it in the scene graph becomes an object sharing that mesh.
Scene-graph groups become empties, so the hierarchy of the file is kept.
"""

import os
from dataclasses import dataclass, field

import bpy
from mathutils import Matrix, Vector

from . import meshing
from . import vox_parser

try:
    import numpy as np
except ImportError:  # meshes are then built from plain lists
    np = None

COLOR_ATTRIBUTE = "Color"
BASE_MATERIAL_KEY = "diffuse"


class ImportFailure(Exception):
    """An import that cannot go on; the message is lowercase and names the file."""


@dataclass
class ImportOptions:
    """The import settings shared by the operator, the panel and the tests."""

    mode: str = meshing.GREEDY
    voxel_size: float = 0.1
    origin: str = "BOTTOM"
    hidden: str = "HIDE"
    keep_hierarchy: bool = True
    use_materials: bool = True
    add_palette: bool = False
    show_colors: bool = True


@dataclass
class ImportResult:
    """What one imported file produced."""

    collection: object
    objects: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def roots(self):
        """The imported objects without a parent."""
        return [obj for obj in self.objects if obj.parent is None]


# ----------------------------------------------------------------------------------------------------------------
# .vox


def import_vox(context, path, options, collection=None):
    """Imports one .vox file into a new collection named after it (or into `collection`)."""
    scene = vox_parser.read_file(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if collection is None:
        collection = bpy.data.collections.new(stem)
        context.scene.collection.children.link(collection)
    result = ImportResult(collection, warnings=list(scene.warnings))
    builder = SceneBuilder(scene, stem, options, result)
    builder.build()
    if options.add_palette:
        add_palette(scene, stem)
    if options.show_colors:
        show_colors_in_solid_view(context)
    return result


class SceneBuilder:
    """Creates meshes, materials and objects for one parsed file."""

    def __init__(self, scene, stem, options, result):
        self.scene = scene
        self.stem = stem
        self.options = options
        self.result = result
        self.meshes = {}
        self.materials = MaterialSet(scene, options.use_materials)

    def build(self):
        """Walks the scene graph, or places every model at the origin when the file has none."""
        if not self.scene.has_scene_graph():
            for model_id in range(len(self.scene.models)):
                self.add_shape(model_id, self.model_name(model_id), Matrix.Identity(4), None, False, False)
            return
        root = self.scene.nodes[vox_parser.ROOT_NODE]
        self.add_transform(root, None, Matrix.Identity(4), False, (), is_root=True)

    def add_transform(self, node, parent, pre, hidden, path, is_root=False):
        """Adds the objects below one nTRN node; `pre` is a transform folded into this one."""
        if node.node_id in path:
            self.result.warnings.append(f"scene graph cycle at node {node.node_id}; branch skipped")
            return
        path = path + (node.node_id,)
        hidden = hidden or vox_parser.node_is_hidden(self.scene, node)
        if hidden and self.options.hidden == "SKIP":
            return
        local = pre @ self.node_matrix(node)
        child = self.scene.nodes.get(node.child)
        name = node.attrs.get("_name", "")
        if isinstance(child, vox_parser.ShapeNode):
            for model_id in child.models[:1]:
                self.add_shape(model_id, name or self.model_name(model_id), local, parent, hidden, True)
        elif isinstance(child, vox_parser.GroupNode):
            self.add_group(child, name, local, parent, hidden, path, is_root)
        elif child is None:
            self.result.warnings.append(f"transform node {node.node_id} refers to missing node {node.child}")

    def model_name(self, model_id):
        """An object name for an unnamed model: the file name, numbered when the file has several models."""
        return self.stem if len(self.scene.models) == 1 else f"{self.stem} {model_id}"

    def add_group(self, group, name, local, parent, hidden, path, is_root):
        """An nGRP: an empty holding its children, or nothing (children get its transform) when flattening."""
        holder, pre = parent, local
        if self.options.keep_hierarchy and not is_root:
            holder = bpy.data.objects.new(name or f"{self.stem} group {group.node_id}", None)
            holder.empty_display_size = self.options.voxel_size * 4
            self.link(holder, local, parent, hidden)
            pre = Matrix.Identity(4)
        for child_id in group.children:
            child = self.scene.nodes.get(child_id)
            if isinstance(child, vox_parser.TransformNode):
                self.add_transform(child, holder, pre, hidden, path)
            else:
                self.result.warnings.append(f"group node {group.node_id} has a child {child_id} that is no nTRN")

    def node_matrix(self, node):
        """The 4x4 matrix of an nTRN node, translation scaled by the voxel size."""
        size = self.options.voxel_size
        matrix = Matrix.Identity(4)
        for row in range(3):
            for col in range(3):
                matrix[row][col] = node.rotation[row][col]
            matrix[row][3] = node.translation[row] * size
        return matrix

    def add_shape(self, model_id, name, local, parent, hidden, centred):
        """One object showing model `model_id`; `centred` when `local` places the model's pivot (size // 2)."""
        model = self.scene.models[model_id]
        mesh = self.mesh_for(model_id)
        obj = bpy.data.objects.new(name, mesh)
        obj["vox_model"] = model_id
        if centred:
            origin = origin_point(model.size, self.options.origin)
            shift = [(origin[i] - model.size[i] // 2) * self.options.voxel_size for i in range(3)]
            local = local @ Matrix.Translation(shift)
        self.link(obj, local, parent, hidden)

    def link(self, obj, local, parent, hidden):
        """Puts an object into the collection, under its parent, with its local matrix."""
        self.result.collection.objects.link(obj)
        obj.parent = parent
        obj.matrix_basis = local
        if hidden:
            hide(obj)
        self.result.objects.append(obj)

    def mesh_for(self, model_id):
        """The mesh of one model, built once and shared by all its instances."""
        mesh = self.meshes.get(model_id)
        if mesh is None:
            model = self.scene.models[model_id]
            data = meshing.mesh_model(model, self.options.mode, use_numpy=np is not None)
            mesh = build_mesh(f"{self.stem} model {model_id}", data, model, self.scene, self.options, self.materials)
            self.meshes[model_id] = mesh
        return mesh


def hide(obj):
    """Hides an object in the viewport (the outliner's eye, which the user can flip back) and in renders."""
    obj.hide_render = True
    try:
        obj.hide_set(True)
    except RuntimeError:  # not in the active view layer: disable it in viewports instead
        obj.hide_viewport = True


def origin_point(size, origin):
    """Where a model's object origin sits, in voxel-corner coordinates."""
    if origin == "CORNER":
        return (0.0, 0.0, 0.0)
    if origin == "CENTER":
        return (size[0] / 2, size[1] / 2, size[2] / 2)
    return (size[0] / 2, size[1] / 2, 0.0)


def build_mesh(name, data, model, scene, options, materials):
    """A Blender mesh from MeshData: vertices, polygons, per-corner colours and material slots."""
    mesh = bpy.data.meshes.new(name)
    origin = origin_point(model.size, options.origin)
    if np is not None:
        fill_mesh_numpy(mesh, data, origin, options.voxel_size, scene)
    else:
        fill_mesh_plain(mesh, data, origin, options.voxel_size, scene)
    materials.assign(mesh, data.face_colors)
    mesh.update()
    return mesh


def fill_mesh_numpy(mesh, data, origin, size, scene):
    """Geometry and colours from numpy arrays."""
    verts = (np.asarray(data.vertices, dtype=np.float64) - np.asarray(origin)) * size
    sizes = np.asarray(data.face_sizes, dtype=np.int32)
    starts = (np.cumsum(sizes) - sizes).astype(np.int32)
    set_geometry(mesh, verts.astype(np.float32).ravel(), np.asarray(data.loops, dtype=np.int32), starts, sizes,
                 data.edges)
    palette = np.asarray(scene.palette, dtype=np.float32) / 255.0
    face_rgba = palette[np.asarray(data.face_colors, dtype=np.int64)]
    set_colors(mesh, np.repeat(face_rgba, sizes, axis=0).ravel())


def fill_mesh_plain(mesh, data, origin, size, scene):
    """Geometry and colours from Python lists (when numpy is missing)."""
    verts = [(v[i] - origin[i]) * size for v in data.vertices for i in range(3)]
    starts, pos = [], 0
    for count in data.face_sizes:
        starts.append(pos)
        pos += count
    set_geometry(mesh, verts, list(data.loops), starts, list(data.face_sizes))
    colors = []
    for color, count in zip(data.face_colors, data.face_sizes):
        colors.extend([c / 255.0 for c in scene.palette[color]] * count)
    set_colors(mesh, colors)


def set_geometry(mesh, coords, loops, starts, sizes, edges=None):
    """Fills vertices, loops, polygons (and edges) with foreach_set.

    Where Blender stores them as generic attributes (positions 3.5+, corners and edges 3.6+), those are written
    directly, which is many times faster than the vertices/loops collections; there the edges are computed with
    numpy as well for meshes that come with their edges (cubes), instead of by `Mesh.update(calc_edges=True)`.
    """
    mesh.vertices.add(len(coords) // 3)
    if not set_attribute(mesh, "position", "vector", coords):
        mesh.vertices.foreach_set("co", coords)
    mesh.loops.add(len(loops))
    if not set_attribute(mesh, ".corner_vert", "value", loops):
        mesh.loops.foreach_set("vertex_index", loops)
    mesh.polygons.add(len(starts))
    mesh.polygons.foreach_set("loop_start", starts)
    try:
        mesh.polygons.foreach_set("loop_total", sizes)
    except (AttributeError, TypeError, RuntimeError):
        pass  # read-only where Blender derives it from the next polygon's start
    if edges is not None and getattr(mesh, "attributes", None) is not None and ".corner_edge" in mesh.attributes:
        pairs, corner_edges = edges
        mesh.edges.add(len(pairs))
        set_attribute(mesh, ".edge_verts", "value", np.asarray(pairs, dtype=np.int32).ravel())
        set_attribute(mesh, ".corner_edge", "value", np.asarray(corner_edges, dtype=np.int32))
        mesh.update()
    else:
        mesh.update(calc_edges=True)
    # Voxels are flat: newer Blender (4.1+) builds meshes smooth-shaded unless told otherwise.
    flat = np.zeros(len(starts), dtype=bool) if np is not None else [False] * len(starts)
    mesh.polygons.foreach_set("use_smooth", flat)


def set_attribute(mesh, name, field, values):
    """Writes an existing generic attribute in one call; False when this Blender has no such attribute."""
    attributes = getattr(mesh, "attributes", None)
    attribute = attributes.get(name) if attributes is not None else None
    if attribute is None:
        return False
    attribute.data.foreach_set(field, values)
    return True


def set_material_indices(mesh, indices):
    """Polygon material indices through the `material_index` face attribute (3.4+), else the polygons."""
    attributes = getattr(mesh, "attributes", None)
    if attributes is not None and attributes.get("material_index") is None:
        attributes.new("material_index", "INT", "FACE")
    if not set_attribute(mesh, "material_index", "value", indices):
        mesh.polygons.foreach_set("material_index", indices)


def set_colors(mesh, rgba):
    """Per-corner byte colours holding the palette's sRGB values exactly."""
    attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, "BYTE_COLOR", "CORNER")
    attribute.data.foreach_set("color_srgb", rgba)
    try:
        mesh.color_attributes.active_color = attribute
        mesh.color_attributes.render_color_index = mesh.color_attributes.active_color_index
    except (AttributeError, TypeError):
        pass  # older Blender: the first colour attribute is the active one


def show_colors_in_solid_view(context):
    """Makes the 3D Views' Solid shading colour objects by their colour attribute (no effect without a screen)."""
    screen = getattr(context, "screen", None)
    for area in getattr(screen, "areas", []):
        for space in area.spaces:
            if space.type == "VIEW_3D":
                space.shading.color_type = "VERTEX"


def add_palette(scene, stem):
    """A Blender palette with the file's colours in MagicaVoxel's display order (IMAP)."""
    palette = bpy.data.palettes.new(f"{stem} palette")
    for index in scene.display_order():
        slot = palette.colors.new()
        slot.color = [c / 255.0 for c in scene.palette[index][:3]]
    return palette


# ----------------------------------------------------------------------------------------------------------------
# Materials


class MaterialSet:
    """Blender materials for one file: a vertex-colour base material, plus one per distinct MATL setting used."""

    def __init__(self, scene, use_materials):
        self.scene = scene
        self.use_materials = use_materials
        self.by_key = {}

    def key_for(self, color):
        """The material key of a colour index: BASE_MATERIAL_KEY, or a tuple of MATL settings."""
        if not self.use_materials:
            return BASE_MATERIAL_KEY
        return material_key(self.scene.materials.get(color, {}))

    def assign(self, mesh, face_colors):
        """Adds the material slots this mesh needs and sets each polygon's material index."""
        keys = {}
        slot_of_color = [0] * 256
        used = np.unique(np.asarray(face_colors)).tolist() if np is not None else sorted(set(face_colors))
        for color in used:
            key = self.key_for(color)
            if key not in keys:
                keys[key] = len(keys)
                mesh.materials.append(self.material(key))
            slot_of_color[color] = keys[key]
        if len(keys) > 1:
            if np is not None:
                indices = np.asarray(slot_of_color, dtype=np.int32)[np.asarray(face_colors, dtype=np.int64)]
            else:
                indices = [slot_of_color[int(c)] for c in face_colors]
            set_material_indices(mesh, indices)

    def material(self, key):
        """The Blender material of a key, reusing one made by an earlier import with the same settings."""
        found = self.by_key.get(key)
        if found is None:
            found = find_or_make_material(key)
            self.by_key[key] = found
        return found


def material_key(props):
    """A hashable summary of a MATL dictionary; plain diffuse materials share BASE_MATERIAL_KEY."""
    kind = props.get("_type", "_diffuse")

    def number(name, default=0.0):
        try:
            return round(float(props.get(name, default)), 3)
        except ValueError:
            return default

    if kind == "_metal":
        return ("metal", number("_metal", number("_weight", 1.0)), number("_rough", 0.5))
    if kind in ("_glass", "_media", "_blend"):
        return ("glass", number("_alpha", number("_trans", number("_weight", 1.0))), number("_rough", 0.1),
                round(1.0 + number("_ior", 0.5), 3))
    if kind == "_emit":
        return ("emit", number("_emit", number("_weight", 1.0)), number("_flux", 0.0), number("_rough", 0.5))
    return BASE_MATERIAL_KEY


def material_name(key):
    """A readable material name for a key."""
    if key == BASE_MATERIAL_KEY:
        return "vox"
    kind, *values = key
    return f"vox {kind} " + " ".join(f"{v:g}" for v in values)


def find_or_make_material(key):
    """A material for `key`: an existing one made by this add-on with the same key, or a new one."""
    name = material_name(key)
    existing = bpy.data.materials.get(name)
    if existing is not None and existing.get("voxgen_key") == repr(key):
        return existing
    material = bpy.data.materials.new(name)
    material["voxgen_key"] = repr(key)
    bsdf, color_node = vertex_color_material(material, COLOR_ATTRIBUTE)
    apply_key(material, bsdf, color_node, key)
    return material


def vertex_color_material(material, attribute_name):
    """Gives a material nodes with a Color Attribute node feeding the Principled BSDF's Base Color."""
    if material.node_tree is None:
        material.use_nodes = True
    tree = material.node_tree
    bsdf = principled_node(tree)
    color_node = tree.nodes.new("ShaderNodeVertexColor")
    color_node.layer_name = attribute_name
    color_node.location = (bsdf.location[0] - 300, bsdf.location[1])
    tree.links.new(color_node.outputs["Color"], bsdf.inputs["Base Color"])
    return bsdf, color_node


def principled_node(tree):
    """The material's Principled BSDF node, made and wired to the output when missing."""
    for node in tree.nodes:
        if node.bl_idname == "ShaderNodeBsdfPrincipled":
            return node
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    output = next((n for n in tree.nodes if n.bl_idname == "ShaderNodeOutputMaterial"), None)
    if output is None:
        output = tree.nodes.new("ShaderNodeOutputMaterial")
        output.location = (300, 0)
    tree.links.new(bsdf.outputs[0], output.inputs["Surface"])
    return bsdf


def set_input(node, names, value):
    """Sets the first input of `names` that this Blender version has (input names changed in 4.0)."""
    for name in names:
        socket = node.inputs.get(name)
        if socket is not None:
            socket.default_value = value
            return socket
    return None


def apply_key(material, bsdf, color_node, key):
    """Metal, glass and emissive settings on the Principled BSDF."""
    set_input(bsdf, ("Roughness",), 0.8)
    if key == BASE_MATERIAL_KEY:
        return
    kind, *values = key
    if kind == "metal":
        metal, rough = values
        set_input(bsdf, ("Metallic",), metal)
        set_input(bsdf, ("Roughness",), rough)
    elif kind == "glass":
        transmission, rough, ior = values
        set_input(bsdf, ("Transmission Weight", "Transmission"), transmission)
        set_input(bsdf, ("Roughness",), rough)
        set_input(bsdf, ("IOR",), ior)
        if hasattr(material, "blend_method"):
            material.blend_method = "BLEND"
    elif kind == "emit":
        emit, flux, rough = values
        socket = set_input(bsdf, ("Emission Color", "Emission"), (1.0, 1.0, 1.0, 1.0))
        if socket is not None:
            material.node_tree.links.new(color_node.outputs["Color"], socket)
        set_input(bsdf, ("Emission Strength",), emit * 2.0 ** flux)
        set_input(bsdf, ("Roughness",), rough)


# ----------------------------------------------------------------------------------------------------------------
# .glb through Blender's glTF importer


def import_glb(context, path, collection):
    """Imports one .glb with Blender's glTF importer into `collection`; fixes materials to show COLOR_0."""
    name = os.path.basename(path)
    if not hasattr(bpy.ops.import_scene, "gltf"):
        raise ImportFailure(f"{name}: Blender's glTF importer (io_scene_gltf2) is not enabled")
    patch_numpy_bool()
    before = set(bpy.data.objects)
    try:
        outcome = bpy.ops.import_scene.gltf(filepath=path)
    except RuntimeError as err:
        raise ImportFailure(f"{name}: glTF import failed: {error_summary(err)}") from err
    if "FINISHED" not in outcome:
        raise ImportFailure(f"{name}: glTF import was cancelled")
    new_objects = [obj for obj in bpy.data.objects if obj not in before]
    for obj in new_objects:
        for owner in list(obj.users_collection):
            owner.objects.unlink(obj)
        collection.objects.link(obj)
        if obj.type == "MESH":
            show_vertex_colors(obj)
    return new_objects


def patch_numpy_bool():
    """Blender 3.4's glTF importer uses `numpy.bool`, which numpy 1.24 removed; give it back as `bool`."""
    if np is not None and "bool" not in np.__dict__:
        np.bool = bool


def error_summary(err):
    """The last non-empty line of an exception's text (Blender puts the reason there)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def color_attribute_names(mesh):
    """Names of the mesh's colour attributes (3.2+ API, with the older vertex_colors as fallback)."""
    attributes = getattr(mesh, "color_attributes", None)
    if attributes is not None:
        return [a.name for a in attributes]
    return [layer.name for layer in getattr(mesh, "vertex_colors", [])]


def show_vertex_colors(obj):
    """Makes every material of a mesh object show its first colour attribute through Base Color."""
    mesh = obj.data
    names = color_attribute_names(mesh)
    if not names:
        return
    if len(mesh.materials) == 0:
        material = bpy.data.materials.new("voxgen vertex colours")
        vertex_color_material(material, names[0])
        mesh.materials.append(material)
        return
    for material in mesh.materials:
        if material is not None and not uses_vertex_color(material):
            bsdf, _ = vertex_color_material(material, names[0])
            set_input(bsdf, ("Roughness",), 0.8)


def uses_vertex_color(material):
    """True when the material's Base Color already comes from a colour attribute (directly or through nodes)."""
    if material.node_tree is None:
        return False
    bsdf = next((n for n in material.node_tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled"), None)
    if bsdf is None:
        return False
    pending = [link.from_node for link in bsdf.inputs["Base Color"].links]
    seen = set()
    while pending:
        node = pending.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        if node.bl_idname in ("ShaderNodeVertexColor", "ShaderNodeAttribute"):
            return True
        for socket in node.inputs:
            pending.extend(link.from_node for link in socket.links)
    return False


# ----------------------------------------------------------------------------------------------------------------
# Layout


def world_bounds(objects):
    """The world-space (min, max) corners of the meshes among `objects` and their children, or None."""
    low, high = [float("inf")] * 3, [float("-inf")] * 3
    found = False
    for obj in all_descendants(objects):
        if obj.type != "MESH":
            continue
        for corner in obj.bound_box:
            point = obj.matrix_world @ Vector(corner)
            for i in range(3):
                low[i], high[i] = min(low[i], point[i]), max(high[i], point[i])
            found = True
    return (low, high) if found else None


def all_descendants(objects):
    """The objects and everything parented below them."""
    out, pending = [], list(objects)
    while pending:
        obj = pending.pop()
        out.append(obj)
        pending.extend(obj.children)
    return out


def place_in_row(context, objects, start_x, gap):
    """Moves the root objects so their bounds start at `start_x` on the x axis; returns where the next one goes."""
    roots = [obj for obj in objects if obj.parent is None]
    context.view_layer.update()
    bounds = world_bounds(roots)
    if bounds is None:
        return start_x
    shift = start_x - bounds[0][0]
    for obj in roots:
        obj.location.x += shift
    return bounds[1][0] + shift + gap
