"""Imports run one way: no cycle between spacy_wv's packages, and the ground floor
(errors, outputs, hf_dirs, pooling) imports nothing above it. Read from the source with `ast`,
every import counted, those inside functions too."""
import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

PACKAGE = Path(__file__).resolve().parent.parent / "spacy_wv"
GROUND_FLOOR = {"errors", "outputs", "hf_dirs", "pooling"}
# Units whose modules use what the others build, never the reverse.
NOT_BELOW = {"layers": {"vectors", "pretraining", "cli"}, "pipeline": {"vectors", "pretraining", "cli"}}

Edge = Tuple[str, str]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> List[str]:
    """The absolute names of the spacy_wv modules (or names inside them) a source imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module:  # `from .m import x`: the module m
                found.append(target)
            else:  # `from . import x, y`: the modules x and y
                found.extend(f"{target}.{alias.name}" for alias in node.names)
    return [name for name in found if name == "spacy_wv" or name.startswith("spacy_wv.")]


def unit(module: str) -> str:
    """A subpackage (`layers`), a top-level module (`errors`) or the package's own `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def unit_edges(sources: Dict[str, Tuple[str, bool]]) -> Dict[Edge, List[str]]:
    """(importing unit, imported unit) -> the imports that make the edge, from
    {module name: (source, is_package)}."""
    edges: Dict[Edge, List[str]] = {}
    for module, (source, is_package) in sources.items():
        for target in imported_modules(source, module, is_package):
            if unit(module) != unit(target):
                edges.setdefault((unit(module), unit(target)), []).append(f"{module} imports {target}")
    return edges


def cycles(edges: Dict[Edge, List[str]]) -> List[List[str]]:
    """The strongly connected groups of more than one unit (Tarjan)."""
    graph: Dict[str, Set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    groups: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def package_sources() -> Dict[str, Tuple[str, bool]]:
    return {module_name(path, PACKAGE): (path.read_text(encoding="utf8"), path.name == "__init__.py")
            for path in sorted(PACKAGE.rglob("*.py"))}


def test_the_graph_is_read_from_every_module():
    sources = package_sources()
    assert "spacy_wv.hf_dirs" in sources and "spacy_wv.layers.frozen_encoder" in sources
    edges = unit_edges(sources)
    # A lazy import inside a function counts as much as one at the top.
    assert ("layers", "hf_dirs") in edges and ("cli", "pretraining") in edges


def test_no_import_cycle_between_packages():
    edges = unit_edges(package_sources())
    found = cycles(edges)
    detail = [line for group in found for (a, b), lines in edges.items() if a in group and b in group for line in lines]
    assert not found, f"import cycles {found}: {detail}"


def test_the_ground_floor_imports_nothing_above_it():
    upward = [line for (a, b), lines in unit_edges(package_sources()).items()
              if a in GROUND_FLOOR and b not in GROUND_FLOOR for line in lines]
    assert not upward, upward


def test_layers_and_pipeline_import_downward():
    edges = unit_edges(package_sources())
    wrong = [line for (a, b), lines in edges.items() if b in NOT_BELOW.get(a, ()) for line in lines]
    assert not wrong, wrong


def test_the_checks_find_what_they_look_for():
    """On made-up modules: a cycle through a lazy import, and a ground-floor module that reaches up."""
    sources = {
        "spacy_wv.errors": ("def f():\n    from .layers.x import y\n", False),
        "spacy_wv.layers": ("from . import x\n", True),
        "spacy_wv.layers.x": ("from ..vectors.z import w\n", False),
        "spacy_wv.vectors.z": ("import spacy_wv.layers.x\nimport os\n", False),
    }
    edges = unit_edges(sources)
    assert edges[("errors", "layers")] == ["spacy_wv.errors imports spacy_wv.layers.x"]
    assert ("layers", "vectors") in edges and ("vectors", "layers") in edges
    assert cycles(edges) == [["layers", "vectors"]]
    assert cycles({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == [["a", "b", "c"]]
    assert cycles({("a", "b"): [], ("b", "c"): []}) == []
