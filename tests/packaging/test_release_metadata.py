"""Every distribution is ready to publish: one version from the VERSION file, siblings pinned
to its release series, the licence, the URLs and classifiers, and READMEs that link to the
project README's section for them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import threaded_order
import threaded_order_cli

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

ROOT = Path(__file__).resolve().parents[2]
VERSION = (ROOT / "VERSION").read_text().strip()
MAJOR, MINOR = (int(n) for n in VERSION.split(".")[:2])
SERIES = f">={MAJOR}.{MINOR},<{MAJOR + 1}"
README = (ROOT / "README.md").read_text()
URL = "https://github.com/threaded-order/threaded-order"
PUBLISHED = sorted(p.parent for p in (ROOT / "packages").rglob("pyproject.toml"))
ALL = [*PUBLISHED, ROOT / "examples" / "hello_plugin"]
CLASSIFIERS = [  # those threaded-order 1.8.1 had, that apply to every distribution
    "Development Status :: 4 - Beta",
    "Intended Audience :: Developers",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3 :: Only",
    *(f"Programming Language :: Python :: 3.{m}" for m in range(9, 14)),
    "Topic :: Software Development :: Testing",
]


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def _anchors() -> set[str]:
    """GitHub's anchors for the README's headings."""
    outside_code = "".join(README.split("```")[::2])
    headings = re.findall(r"^#+ (.+)$", outside_code, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_names_of_the_distributions():
    names = {_project(p)["project"]["name"]: p.relative_to(ROOT).as_posix() for p in PUBLISHED}
    assert names["threaded-order"] == "packages/threaded-order-core"  # the code: 1.x's name
    assert names["threaded-order-core"] == "packages/threaded-order-core-alias"
    assert len(names) == 8


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.name)
def test_one_version_read_from_the_version_file(folder):
    config = _project(folder)
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    source = config["tool"]["hatch"]["version"]
    assert (folder / source["path"]).resolve() == ROOT / "VERSION"
    assert re.search(source["pattern"], VERSION + "\n", re.M).group("version") == VERSION
    keys = [k["file"] for k in config["tool"]["uv"]["cache-keys"]]
    assert source["path"] in keys  # uv rebuilds the editable install when VERSION changes


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.name)
def test_siblings_are_pinned_to_the_release_series(folder):
    project = _project(folder)["project"]
    deps = [*project.get("dependencies", []),
            *(d for extra in project.get("optional-dependencies", {}).values() for d in extra)]
    siblings = [d for d in deps if d.startswith("threaded-order")]
    for dep in siblings:
        name, _, spec = dep.partition(">")
        assert f">{spec}" == SERIES, f"{folder.name}: pin {name} to {SERIES} (VERSION is {VERSION})"
    if project["name"] != "threaded-order":
        assert siblings or "dependencies" in project["dynamic"]


def test_the_code_less_alias_installs_threaded_order_of_its_own_version():
    folder = ROOT / "packages" / "threaded-order-core-alias"
    config = _project(folder)
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["bypass-selection"] is True
    assert "dependencies" in config["project"]["dynamic"]
    hook = (folder / "hatch_build.py").read_text()
    assert "f\"threaded-order=={metadata['version']}\"" in hook
    assert not (folder / "src").exists()


@pytest.mark.parametrize("folder", ALL, ids=lambda p: p.name)
def test_licence_files_in_every_distribution(folder):
    project = _project(folder)["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE", "NOTICE"]
    for name in ("LICENSE", "NOTICE"):
        assert (folder / name).read_bytes() == (ROOT / name).read_bytes(), name
    assert "Apache License" in (ROOT / "LICENSE").read_text()


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.name)
def test_urls_authors_and_classifiers(folder):
    project = _project(folder)["project"]
    urls = project["urls"]
    assert urls["Homepage"] == urls["Source"] == URL
    assert urls["Issues"] == f"{URL}/issues"
    assert urls["Changelog"] == f"{URL}/blob/main/CHANGELOG.md"
    assert urls["Documentation"].partition("#")[2] in _anchors()
    assert project["authors"]
    assert [c for c in CLASSIFIERS if c not in project["classifiers"]] == []
    assert project["requires-python"] == ">=3.9"


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.name)
def test_package_readme_links_to_its_section_of_the_project_readme(folder):
    text = (folder / "README.md").read_text()
    links = re.findall(re.escape(URL) + r"#([\w-]+)", text)
    assert links, f"{folder.name}/README.md links to no section of the project README"
    assert set(links) <= _anchors()


def test_hello_plugin_is_never_uploaded():
    project = _project(ROOT / "examples" / "hello_plugin")["project"]
    assert "Private :: Do Not Upload" in project["classifiers"]


def test_version_attributes_come_from_the_installed_metadata():
    assert threaded_order.__version__ == threaded_order_cli.__version__ == VERSION


def test_changelog_starts_with_this_version_and_examples_say_where_they_come_from():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.M).group(1) == VERSION
    examples = (ROOT / "examples" / "README.md").read_text()
    for derived in ("simple.py", "shared_state.py", "example4c.py", "progress_bar.py"):
        assert f"- `{derived}`: the" in examples
    for example in (ROOT / "examples").glob("*.py"):
        assert f"`{example.name}`" in examples
