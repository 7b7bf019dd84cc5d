"""The data files of project.yml's workflows, as its `assets` section declares them.

    python scripts/project_assets.py dry [--workflow demo] [--extra] [--vars.data DIR]
    python scripts/project_assets.py missing --workflow demo [--vars.data DIR]

`dry` is what `spacy project assets` would do, without doing it (weasel has no --dry):
each asset it would consider (the non-extra ones, all with --extra, or only those a
workflow reads with --workflow), whether it is there with its checksum, its md5 and
URL, and what the fetch would do. `missing` prints the files a workflow reads that are
not there and exits 1 if there are any (the Makefile fetches only then).

A workflow's data files are the words of its commands' scripts and deps under
`vars.data`; an asset covers a path if its dest is that path, lies in that folder, or is
a folder holding that path.
"""
import argparse
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

from weasel.util import get_checksum, load_project_config, parse_config_overrides

REPO = Path(__file__).resolve().parents[1]
EXTRA_DEFAULT = False  # weasel.cli.assets: an asset is extra only if it says so


def load(project_dir: Path = REPO, overrides: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return load_project_config(project_dir, overrides=dict(overrides or {}))


def data_dir(config: Dict[str, Any], overrides: Optional[Dict[str, Any]] = None) -> str:
    # weasel substitutes an override into the commands and assets but leaves config["vars"] as written.
    return str((overrides or {}).get("vars.data", config["vars"]["data"])).rstrip("/")


def command_paths(command: Dict[str, Any], data: str) -> Set[str]:
    words = [w for line in command.get("script", []) for w in shlex.split(line)]
    words += command.get("deps", [])
    return {w.rstrip("/") for w in words if w.startswith(data + "/")}


def data_paths(config: Dict[str, Any], data: str, workflow: Optional[str] = None) -> Set[str]:
    """The data paths a workflow's commands read (every command's, without a workflow)."""
    commands = {c["name"]: c for c in config["commands"]}
    names = config["workflows"][workflow] if workflow else list(commands)
    return set().union(*(command_paths(commands[name], data) for name in names))


def covers(dest: str, path: str) -> bool:
    return dest == path or dest.startswith(path + "/") or path.startswith(dest + "/")


def assets_for(config: Dict[str, Any], paths: Set[str]) -> List[Dict[str, Any]]:
    return [a for a in config.get("assets", []) if any(covers(a["dest"], p) for p in paths)]


def selected_assets(config: Dict[str, Any], data: str, workflow: Optional[str], extra: bool) -> List[Dict[str, Any]]:
    if workflow:
        return assets_for(config, data_paths(config, data, workflow))
    return [a for a in config.get("assets", []) if extra or not a.get("extra", EXTRA_DEFAULT)]


def state(asset: Dict[str, Any], project_dir: Path = REPO) -> str:
    path = project_dir / asset["dest"]
    if not path.exists():
        return "missing"
    if not asset.get("checksum"):
        return "present"
    return "present, md5 ok" if get_checksum(path) == asset["checksum"] else "present, md5 DIFFERS"


def action(asset: Dict[str, Any], now: str) -> str:
    """What `spacy project assets` would do with it (weasel.cli.assets.fetch_asset / check_private_asset)."""
    if now == "present, md5 ok":
        return "skip"
    if not asset.get("url"):
        return "no URL: add it yourself" if now == "missing" else "no URL: keep"
    changed = "CHANGED" in asset.get("description", "")
    return "download" + (" (the unchanged source: md5 will differ)" if changed else "")


def kind(asset: Dict[str, Any]) -> str:
    description = asset.get("description", "")
    return "  (CHANGED from the URL's file)" if "CHANGED" in description else "  (BUILT)" if "BUILT" in description else ""


def dry(config: Dict[str, Any], data: str, workflow: Optional[str] = None, extra: bool = False,
        project_dir: Path = REPO) -> str:
    assets = selected_assets(config, data, workflow, extra)
    what = f"workflow {workflow}" if workflow else ("all assets" if extra else "spacy project assets (non-extra)")
    lines = [f"{len(assets)} assets for {what}, vars.data = {data}:"]
    for asset in assets:
        now = state(asset, project_dir)
        lines.append(f"{asset['dest']}  [{now}] -> {action(asset, now)}")
        lines.append(f"    md5 {asset.get('checksum') or '-'}  url {asset.get('url') or '-'}{kind(asset)}")
    return "\n".join(lines)


def missing(config: Dict[str, Any], data: str, workflow: str, project_dir: Path = REPO) -> List[str]:
    paths = data_paths(config, data, workflow)
    wanted = paths | {a["dest"] for a in assets_for(config, paths)}
    return sorted(p for p in wanted if not (project_dir / p).exists())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["dry", "missing"])
    parser.add_argument("--workflow", default=None)
    parser.add_argument("--extra", action="store_true", help="dry: all assets, as `spacy project assets --extra`")
    args, rest = parser.parse_known_args(argv)
    overrides = parse_config_overrides(rest)
    config = load(REPO, overrides)
    data = data_dir(config, overrides)
    if args.mode == "dry":
        print(dry(config, data, args.workflow, args.extra))
        return 0
    if not args.workflow:
        parser.error("missing needs --workflow")
    absent = missing(config, data, args.workflow)
    if absent:
        print(f"{len(absent)} data files of workflow {args.workflow} are missing under {data}, e.g. {absent[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
