"""project.yml's assets against the data here (../shared/data): every file a command reads is
an asset, each asset's md5 is that of the file here, URLs are pinned, and a checkout
without the data is told what to fetch (scripts/project_assets.py, the Makefile's check)."""
import importlib.util
import re
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from weasel.util import get_checksum

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("project_assets", REPO / "scripts" / "project_assets.py")
project_assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(project_assets)

WORKFLOWS = ["demo", "all", "zh-demo", "zh-all", "tapt", "zh-tapt"]
# raw.githubusercontent.com/OWNER/REPO/REF/PATH, REF a commit id (7 to 40 hex digits)
PINNED = re.compile(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/(?P<ref>[^/]+)/\S+$")


@pytest.fixture(scope="module")
def config():
    return project_assets.load(REPO)


@pytest.fixture(scope="module")
def data(config):
    return project_assets.data_dir(config)


def test_every_asset_is_the_file_here(config, data):
    dests = [a["dest"] for a in config["assets"]]
    assert len(dests) == len(set(dests))
    for asset in config["assets"]:
        assert asset["dest"].startswith(data + "/"), asset["dest"]
        path = REPO / asset["dest"]
        assert path.exists(), asset["dest"]
        assert get_checksum(path) == asset["checksum"], asset["dest"]


def test_urls_are_pinned(config):
    with_url = [a for a in config["assets"] if a.get("url")]
    assert len(with_url) >= 100
    for asset in with_url:
        match = PINNED.match(asset["url"])
        assert match, asset["url"]
        if not re.fullmatch(r"[0-9a-f]{7,40}", match["ref"]):
            # The one exception says so: gensim's analogy file, pinned to a release tag.
            assert "release tag" in asset["description"], asset["url"]
    # No URL only where the description says how the file was built.
    for asset in config["assets"]:
        if not asset.get("url"):
            assert "BUILT" in asset["description"] or "No URL" in asset["description"], asset["dest"]


def test_questions_words_is_the_gensim_file(config):
    gensim = pytest.importorskip("gensim")
    if gensim.__version__ != "4.4.0":
        pytest.skip(f"the URL names gensim 4.4.0, this is {gensim.__version__}")
    (asset,) = [a for a in config["assets"] if a["dest"].endswith("/questions-words.txt")]
    bundled = Path(gensim.__file__).parent / "test" / "test_data" / "questions-words.txt"
    assert get_checksum(bundled) == asset["checksum"]
    assert "/gensim/4.4.0/gensim/test/test_data/questions-words.txt" in asset["url"]


def _covered(config, path: str) -> bool:
    return any(a["dest"] == path or path.startswith(a["dest"] + "/") for a in config["assets"])


def test_every_data_path_of_every_command_is_an_asset(config, data):
    paths = project_assets.data_paths(config, data)
    # Every data path in a var is read by some command, so the commands show them all.
    in_vars = {w for v in config["vars"].values() if isinstance(v, str) for w in v.split() if w.startswith(data + "/")}
    assert len(in_vars) >= 20 and in_vars <= paths
    for path in sorted(paths):
        full = REPO / path
        assert full.exists(), path
        files = sorted(f for f in full.rglob("*") if f.is_file()) if full.is_dir() else [full]
        assert files, path
        for f in files:
            rel = path + str(f)[len(str(full)):]
            assert _covered(config, rel), f"{rel} is read by a command but is no asset"


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_workflow_reads_declared_files(config, data, workflow):
    paths = project_assets.data_paths(config, data, workflow)
    assert paths, workflow
    assert project_assets.assets_for(config, paths)
    assert project_assets.missing(config, data, workflow) == []


def test_the_demo_files_are_what_spacy_project_assets_fetches(config, data):
    demo = project_assets.assets_for(config, project_assets.data_paths(config, data, "demo"))
    default = [a for a in config["assets"] if not a.get("extra", False)]
    assert [a["dest"] for a in demo] == [a["dest"] for a in default]
    assert len(demo) == 11
    for asset in demo:
        assert asset.get("url") and asset.get("checksum"), asset["dest"]


def test_a_checkout_without_the_data_is_told_what_to_fetch(tmp_path):
    elsewhere = tmp_path / "assets"
    overrides = {"vars.data": str(elsewhere)}
    config = project_assets.load(REPO, overrides)
    data = project_assets.data_dir(config, overrides)
    assert data == str(elsewhere)
    demo = project_assets.assets_for(config, project_assets.data_paths(config, data, "demo"))
    assert {a["dest"] for a in demo} == set(project_assets.missing(config, data, "demo"))
    listing = project_assets.dry(config, data, "demo")
    for asset in demo:
        line = f"{asset['dest']}  [missing] -> download"
        assert line in listing
        assert f"md5 {asset['checksum']}  url {asset['url']}" in listing
    # Once the files are there (links to the shared copies), nothing is missing or fetched.
    shared = project_assets.load(REPO)
    here = project_assets.assets_for(shared, project_assets.data_paths(shared, project_assets.data_dir(shared), "demo"))
    for asset, copy in zip(demo, here):
        Path(asset["dest"]).parent.mkdir(parents=True, exist_ok=True)
        Path(asset["dest"]).symlink_to((REPO / copy["dest"]).resolve())
    assert project_assets.missing(config, data, "demo") == []
    assert project_assets.dry(config, data, "demo").count("[present, md5 ok] -> skip") == len(demo)
    assert project_assets.main(["missing", "--workflow", "demo", "--vars.data", str(elsewhere)]) == 0
    assert project_assets.main(["missing", "--workflow", "demo", "--vars.data", str(tmp_path / "none")]) == 1


# Under `make test` the suite runs inside make: a sub-make would inherit its flags and
# print "Entering directory" lines around the recipe.
TOP_LEVEL_MAKE = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_fetches_only_when_files_are_missing(tmp_path):
    # -n prints the recipe; -o keeps make from (re)building the venv.
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "demo", f"DATA={tmp_path}"], cwd=REPO,
                         capture_output=True, text=True, check=True, env=TOP_LEVEL_MAKE).stdout.splitlines()
    check, run = out
    assert check.endswith(f"scripts/project_assets.py missing --workflow demo --vars.data {tmp_path} "
                          f"|| .venv/bin/python -m spacy project assets . --vars.data {tmp_path}")
    assert run.endswith(f"spacy project run demo . --vars.data {tmp_path}")
    # Without DATA: ../shared/data where it exists (here), read in place.
    default = subprocess.run(["make", "-n", "-o", ".venv/.installed", "demo"], cwd=REPO,
                             capture_output=True, text=True, check=True, env=TOP_LEVEL_MAKE).stdout
    assert default.count("--vars.data ../shared/data") == 3
