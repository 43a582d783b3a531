"""Ships the top-level knowledge/ and migrations/ directories inside the wheel.

They stay at the top of the repository (where people edit them and Alembic expects them) and
are installed as `bot/knowledge` and `bot/migrations`; `bot.resources` finds either layout.
"""

from pathlib import Path

from setuptools import find_packages, setup

DATA = {"knowledge": ["*.yaml"], "migrations": ["*.py", "*.mako"]}
"""Top-level directory -> files shipped from it and from each folder below it."""

packages = find_packages(include=["bot", "bot.*"])
package_dir: dict[str, str] = {}
package_data: dict[str, list[str]] = {
    "bot": ["py.typed"],
    "bot.web_adapter": ["templates/*.html", "templates/dashboard/*.html", "static/*"],
}
for top, patterns in DATA.items():
    for folder in [Path(top), *sorted(p for p in Path(top).rglob("*") if p.is_dir())]:
        if folder.name == "__pycache__":
            continue
        name = ".".join(("bot", *folder.parts))
        packages.append(name)
        package_dir[name] = folder.as_posix()
        package_data[name] = patterns

setup(packages=packages, package_dir=package_dir, package_data=package_data)
