"""project.yml: every workflow step's inputs exist or come from an earlier step."""

import pytest
from weasel.util import load_project_config

from .tiny_pipelines import REPO


@pytest.fixture(scope="module")
def project():
    return load_project_config(REPO)


@pytest.mark.parametrize("workflow", ["demo", "all", "tapt", "zh-tapt"])
def test_workflow_steps_are_chained(project, workflow):
    commands = {c["name"]: c for c in project["commands"]}
    produced = set()
    for name in project["workflows"][workflow]:
        command = commands[name]
        for dep in command.get("deps", []):
            assert dep in produced or (REPO / dep).exists(), f"{name}: {dep} neither exists nor is made earlier"
        assert all(line.startswith("python ") for line in command["script"]), name
        produced.update(command.get("outputs", []))
        assert command.get("outputs") or name == "demo-example", f"{name} has no outputs: reruns cannot skip it"


def test_data_paths_are_single_vars(project):
    # weasel joins consecutive variable-only list entries into one string.
    for command in project["commands"]:
        for path in command.get("deps", []) + command.get("outputs", []):
            assert ", " not in path, (command["name"], path)
    for key in ("ner_train", "ner_dev", "textcat_train", "textcat_dev"):
        assert (REPO / project["vars"][key]).is_file(), key

