"""Prepare EU DSS's PAdES validation test vectors for bench/holdout.py (files stay outside
the repository; nothing of DSS is committed).

Reads a git mirror of github.com/esig/dss (e.g. the `fetch` tool's copy), copies every PDF
under dss-pades/src/test/resources/validation into OUT, and writes OUT/labels.json with DSS's
own expectation per file, read from the test classes that load it:

* `intact`: the test keeps DSS's default checks - every signature intact and valid
  (AbstractPkiFactoryTestValidation.checkBLevelValid) and no PDF modification detected
  (AbstractPAdESTestValidation.checkPdfRevision) - or overrides them calling super;
* `not-intact`: an override asserts a signature is not intact / not valid, that PDF
  modifications were detected, or that no signature is found at all;
* `review`: an override replaces a check without either assertion (read it by hand).

    .venv/bin/python bench/holdout_dss.py /work/.mirror/esig+dss/repo /tmp/dss
    .venv/bin/python bench/holdout.py /tmp/dss --expect /tmp/dss/labels.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

RESOURCES = "dss-pades/src/test/resources/validation/"
TESTS = "dss-pades/src/test/java"
BASES = {
    "AbstractPAdESTestValidation",
    "AbstractPAdESWithEvidenceRecordTestValidation",
    "AbstractDSS2058",
    "AbstractDSS818Test",
}
NEGATIVE = [
    r"assertFalse\([^;]*(isSignatureIntact|isSignatureValid|isBLevelTechnicallyValid)",
    r"assertTrue\([^;]*arePdfModificationsDetected",
    r"assertFalse\([^;]*isDataIntact",
    r"assertEquals\(0, diagnosticData\.getAllSignatures\(\)\.size\(\)\)",
    r"NO_SIGNATURE_FOUND",
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def method_body(src: str, name: str) -> str | None:
    match = re.search(r"void\s+" + name + r"\s*\(", src)
    if match is None:
        return None
    start = src.index("{", match.end())
    depth = 0
    for end in range(start, len(src)):
        depth += {"{": 1, "}": -1}.get(src[end], 0)
        if depth == 0:
            return src[start + 1 : end]
    return src[start + 1 :]


def verdict(src: str, inherited: str | None) -> str:
    """DSS's expectation from one test class (and its abstract parent, when one of ours)."""
    label = "intact"
    for name in ("checkBLevelValid", "checkPdfRevision", "checkNumberOfSignatures"):
        own = method_body(src, name)
        parent = method_body(inherited, name) if inherited is not None else None
        bodies = [b for b in (own, parent) if b is not None]
        if own is not None and f"super.{name}" not in own:
            bodies = [own]  # the parent's version is not run
        if any(re.search(p, b) for b in bodies for p in NEGATIVE):
            return "not-intact"
        if bodies and name != "checkNumberOfSignatures" and f"super.{name}" not in bodies[-1]:
            label = "review"
    return label


def labels(repo: Path) -> dict[str, dict[str, object]]:
    files = git(repo, "grep", "-l", "-E", r"/validation/[^\"]*\.pdf", "HEAD", "--", TESTS)
    sources = {f.split(":", 1)[1]: git(repo, "show", f) for f in files.split() if f}
    parents = {Path(p).stem: s for p, s in sources.items()}
    every = git(repo, "ls-tree", "-r", "--name-only", "HEAD", TESTS).split()
    for base in BASES:
        found = [f for f in every if f.endswith(f"/{base}.java")]
        if found:
            parents[base] = git(repo, "show", f"HEAD:{found[0]}")
    per_file: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, src in sources.items():
        base = re.search(r"class\s+\w+\s+extends\s+(\w+)", src)
        if base is None or base.group(1) not in BASES:
            continue
        loader = re.search(r"getSignedDocument\s*\(\s*\)\s*\{(.*?)\}", src, re.S)
        pdfs = set(re.findall(r'"/validation/([^"]*\.pdf)"', loader.group(1) if loader else ""))
        inherited = (
            parents.get(base.group(1)) if base.group(1) != "AbstractPAdESTestValidation" else None
        )
        for pdf in pdfs:
            per_file[pdf].append((Path(path).stem, verdict(src, inherited)))
    out: dict[str, dict[str, object]] = {}
    for pdf, found in sorted(per_file.items()):
        kinds = {v for _, v in found}
        expected = (
            "not-intact" if "not-intact" in kinds else "intact" if kinds == {"intact"} else "review"
        )
        out[pdf] = {"expected": expected, "classes": [f"{c}:{v}" for c, v in found]}
    return out


def copy_pdfs(repo: Path, out: Path) -> int:
    names = git(repo, "ls-tree", "-r", "-z", "--name-only", "HEAD", RESOURCES).split("\0")
    copied = 0
    for name in names:
        if not name.lower().endswith(".pdf"):
            continue
        blob = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", f"HEAD:{name}"], capture_output=True
        )
        if blob.returncode != 0 or not blob.stdout:
            continue  # not in the mirror (large files may be absent)
        target = out / name[len(RESOURCES) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
        copied += 1
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="git directory of a DSS mirror")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    copied = copy_pdfs(args.repo, args.out)
    found = labels(args.repo)
    (args.out / "labels.json").write_text(json.dumps(found, indent=1, ensure_ascii=False))
    counts: dict[str, int] = defaultdict(int)
    for value in found.values():
        counts[str(value["expected"])] += 1
    print(f"{copied} PDFs copied to {args.out}; labels: {dict(counts)}")


if __name__ == "__main__":
    main()
