"""`python -m bench.imports`: BibTeX import end to end on the embedded default.

Generates realistic entries (accented names in LaTeX, protective braces, DOIs, arXiv
eprints, DBLP-shaped keys, a few malformed ones), imports each file in a fresh data dir in
a child process (the real `run_import` path: parse, papers use case, outbox, relay to the
event log), and prints JSON with entries/s and the child's peak RSS (getrusage), for 10k
and 100k entries by default. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

FIRST = ["Kaiming", "J{\\\"u}rgen", "Ren{\\'e}", "Ada", "Yoshua", "Fran{\\c{c}}ois", "Zo{\\\"e}", "Li", "Maria"]
LAST = ["He", "Schmidhuber", "M{\\\"u}ller", "Lovelace", "Bengio", "Chollet", "{\\O}stergaard", "Wang", "Garc{\\'\\i}a"]
WORDS = ["Deep", "Residual", "Learning", "Attention", "Graph", "Networks", "Robust", "Optimization", "Sparse",
         "Transformers", "Kernel", "Bayesian", "Inference", "Contrastive", "Representations", "Scalable"]
VENUES = ["ICLR", "NeurIPS", "Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
          "Journal of Machine Learning Research", "ICML"]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) + f" {{BERT}}-{i}"
            authors = " and ".join(
                f"{rng.choice(LAST)}, {rng.choice(FIRST)}" if rng.random() < 0.5 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                for _ in range(rng.randint(1, 6)))
            key = f"DBLP:conf/bench/X{i}" if rng.random() < 0.5 else f"entry{i}"
            fields = [f"  author = {{{authors}}}", f"  title = {{{title}}}", f"  year = {{{rng.randint(1990, 2025)}}}"]
            venue = rng.choice(VENUES)
            fields.append(f"  {'journal' if 'Journal' in venue else 'booktitle'} = {{{venue}}}")
            if rng.random() < 0.7:
                fields.append(f"  doi = {{10.{1000 + i % 9000}/bench.{i}}}")
            if rng.random() < 0.3:
                fields += [f"  eprint = {{{1501 + i % 12:04d}.{i % 100000:05d}}}", "  archivePrefix = {arXiv}"]
            if rng.random() < 0.3:
                fields.append("  abstract = {We study " + " ".join(rng.choice(WORDS) for _ in range(40)) + ".}")
            kind = "inproceedings" if "journal" not in fields[-1] else "article"
            if i % 5000 == 4999:  # a malformed entry now and then
                out.write(f"@article{{broken{i},\n  title = {{never closed,\n\n")
                continue
            out.write(f"@{kind}{{{key},\n" + ",\n".join(fields) + "\n}\n\n")


CHILD = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
from tests.conftest import make_settings
from shortscience.imports.bibtex import read_bibtex
from shortscience.imports.runner import run_import
path, data = Path(sys.argv[1]), Path(sys.argv[2])
settings = make_settings(data, poll_interval=0.25)
t = time.perf_counter()
report = asyncio.run(run_import(settings, read_bibtex(path), source="bench"))
seconds = time.perf_counter() - t
print(json.dumps({"entries": report.total, "seconds": round(seconds, 2),
                  "entries_per_s": round(report.total / seconds), "counts": dict(report.counts),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    results = {}
    root = Path(__file__).resolve().parent.parent
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            bib = Path(tmp) / f"bench-{n}.bib"
            generate(bib, n)
            print(f"importing {n:,} entries ({bib.stat().st_size / 2**20:.1f} MiB)...", file=sys.stderr)
            done = subprocess.run([sys.executable, "-c", CHILD, str(bib), str(Path(tmp) / "data")], cwd=root,
                                  capture_output=True, text=True, check=True)
            results[str(n)] = json.loads(done.stdout.strip().splitlines()[-1])
            results[str(n)]["file_mib"] = round(bib.stat().st_size / 2**20, 1)
    print(json.dumps({"bibtex_import": results, "target_entries_per_s": 1000}, indent=2))


if __name__ == "__main__":
    main()
