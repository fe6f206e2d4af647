"""The README's first screen: the two commands verbatim in code blocks (CI's .ci/run and the
fresh-machine check run exactly those), its picture, and links that lead somewhere."""

import re

from tests.support.app import ROOT

README = ROOT / "README.md"
RUN, TEST = "./build_scripts/run-app.sh --demo", "./build_scripts/run-tests.sh"
# written in parallel by other engineers of this wave: checked once they exist
PARALLEL = {
    "docs/troubleshooting.md",
    "docs/networks.md",
    "docs/platforms.md",
    "docs/releasing.md",
    "docs/fleet.md",
}


def code_lines(text: str) -> list[str]:
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines()]


def test_the_two_commands_are_in_code_blocks_near_the_top_and_ci_runs_the_test_one():
    text = README.read_text()
    assert RUN in code_lines(text) and TEST in code_lines(text)
    assert text.index(TEST) < len(text) // 2  # near the top, before install and first run
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert any(line.strip() in code_lines(text) for line in ci if line.strip().startswith("./"))


def test_the_picture_and_every_link_exist():
    text = README.read_text()
    docs = sorted((ROOT / "docs").glob("*.md"))
    for page in [README, *docs]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)", page.read_text()):
            path, anchor = target
            if path.startswith(("http://", "https://")):
                continue
            resolved = (page.parent / path).resolve()
            relative = resolved.relative_to(ROOT).as_posix()
            if relative in PARALLEL and not resolved.exists():
                continue
            assert resolved.exists(), f"{page.name} links to {path}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", resolved.read_text(), flags=re.M)
                slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{page.name} links to {path}#{anchor}"
    assert "docs/images/status.png" in text and (ROOT / "docs/images/status.png").stat().st_size > 10_000


def test_every_section_of_the_old_readme_has_a_home_in_docs():
    """Moved, not lost: the facts the long README held are each in one of the docs pages."""
    docs = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    for fact in (
        "--metrics-listen",  # command line
        "$CREDENTIALS_DIRECTORY",  # miner id sources
        "Type=notify",  # running on a server
        "d = min(300 s, b·2^(k-1))",  # how it behaves
        "XEmbed",  # the tray
        "build_scripts/build.py",  # build
        "launch to first heartbeat",  # performance
        "tests/unit/test_layer_contracts.py",  # layout: the layers and the test that plants a break
        "fresh-check.sh",  # tests
    ):
        assert fact in docs, fact
