"""BEIR SciFact (test split), read in place from the shared data folder.

``scifact.zip`` holds the original release as CSV: ``corpus_train.csv`` (5,183
abstracts) and ``claims_validation.csv`` (the 300 claims BEIR uses as test queries);
``qrels_test.tsv`` beside it holds the BEIR test qrels. Nothing is copied into the repo.

The ``abstract`` column is a Python/NumPy-style list of sentence strings; in the NumPy
form the items are separated by whitespace only, where ``ast.literal_eval`` on the whole
value would glue adjacent strings together. Each string token is therefore read with
``ast.literal_eval`` on its own. A document's text is the title, a space, and the
sentences joined with spaces (as BEIR builds it).
"""

from __future__ import annotations

import ast
import csv
import io
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "data" / "scifact"


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return (self.title + " " + " ".join(self.sentences)).strip()


@dataclass(frozen=True)
class SciFact:
    docs: list[Doc]  # in corpus file order
    queries: dict[str, str]  # query id -> claim text, in file order
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> relevance grade

    @property
    def test_query_ids(self) -> list[str]:
        """Queries that have qrels, in claims-file order."""
        return [q for q in self.queries if q in self.qrels]


def parse_sentences(value: str) -> tuple[str, ...]:
    """The sentence strings of an ``abstract`` cell (list syntax with or without commas)."""
    out: list[str] = []
    tokens = tokenize.generate_tokens(io.StringIO(value).readline)
    for tok in tokens:
        if tok.type == tokenize.STRING:
            s = ast.literal_eval(tok.string)
            if isinstance(s, str) and s.strip():
                out.append(s.strip())
    return tuple(out)


def _member(zf: zipfile.ZipFile, name: str) -> str:
    for n in zf.namelist():
        if n == name or n.endswith("/" + name):
            return n
    raise FileNotFoundError(f"{name} not found in {zf.filename}")


def _rows(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with zf.open(_member(zf, name)) as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8", newline="")))


def load_scifact(folder: Path = DEFAULT_DIR) -> SciFact:
    folder = Path(folder)
    archive = folder / "scifact.zip"
    qrels_path = folder / "qrels_test.tsv"
    for p in (archive, qrels_path):
        if not p.is_file():
            raise FileNotFoundError(f"SciFact file missing: {p} (see {folder / 'SOURCE.md'})")
    with zipfile.ZipFile(archive) as zf:
        docs = [
            Doc(r["doc_id"].strip(), r["title"].strip(), parse_sentences(r["abstract"]))
            for r in _rows(zf, "corpus_train.csv")
        ]
        queries: dict[str, str] = {}
        for r in _rows(zf, "claims_validation.csv"):
            queries.setdefault(r["id"].strip(), r["claim"].strip())
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"].strip(), {})[row["corpus-id"].strip()] = int(
                row["score"]
            )
    return SciFact(docs=docs, queries=queries, qrels=qrels)
