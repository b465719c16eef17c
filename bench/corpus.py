"""A deterministic synthetic corpus with realistic word frequencies, for search benchmarks.

Words follow a Zipf law over a vocabulary of a few hundred real research words and many
made-up ones (so rare terms exist, as in real text); titles, abstracts and summaries are
drawn from it. The same seed gives the same corpus on every machine.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from backbone.events import PaperRegistered, PaperSnapshot, SummaryPublished, SummaryState

COMMON = (
    "learning network neural model deep training data method results image language attention graph "
    "representation optimization gradient loss performance task convolutional generative adversarial "
    "reinforcement policy reward transformer embedding semantic segmentation detection classification "
    "regression bayesian inference variational latent diffusion sampling noise robust adversarial "
    "transfer domain adaptation supervised unsupervised contrastive self pretraining finetuning benchmark "
    "dataset evaluation accuracy baseline architecture layer residual normalization dropout regularization "
    "stochastic convergence theory bound analysis kernel sparse efficient scalable distributed parallel "
    "memory recurrent sequence translation speech audio video vision text retrieval recommendation causal "
    "fairness privacy federated explanation interpretability uncertainty calibration ensemble pruning "
    "quantization distillation compression search evolutionary meta few shot zero continual lifelong "
    "multimodal cross lingual question answering reasoning knowledge planning control robotics simulation"
).split()
VENUES = ("NeurIPS", "ICML", "ICLR", "CVPR", "ICCV", "ECCV", "ACL", "EMNLP", "NAACL", "AAAI", "IJCAI", "KDD",
          "SIGIR", "WWW", "JMLR", "TPAMI", "Nature", "Science", "UAI", "AISTATS")
FIRST = ("Ada", "Alan", "Grace", "Kaiming", "Yann", "Yoshua", "Fei", "Andrew", "Ilya", "Oriol", "Jia", "Wei",
         "Maria", "Chen", "Sara", "Ivan", "Olga", "Raj", "Aisha", "Tomas")
LAST = ("Lovelace", "Turing", "Hopper", "He", "LeCun", "Bengio", "Li", "Ng", "Sutskever", "Vinyals", "Deng",
        "Zhang", "Garcia", "Wang", "Smith", "Petrov", "Ivanova", "Patel", "Khan", "Mikolov")
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qu", "ba", "de", "fi", "go", "hu", "ja")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class Corpus:
    def __init__(self, seed: int = 7, vocabulary: int = 20_000) -> None:
        self.random = random.Random(seed)
        made_up = ("".join(p) for n in (2, 3, 4) for p in itertools.product(SYLLABLES, repeat=n))
        self.words = list(COMMON) + list(itertools.islice(made_up, max(vocabulary - len(COMMON), 0)))
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(self.words))]  # Zipf
        self._cumulative = list(itertools.accumulate(weights))

    def word(self) -> str:
        x = self.random.random() * self._cumulative[-1]
        return self.words[bisect.bisect_left(self._cumulative, x)]

    def text(self, n: int) -> str:
        return " ".join(self.word() for _ in range(n))

    def title(self) -> str:
        return self.text(self.random.randint(4, 10)).capitalize()

    def papers(self, count: int) -> list[PaperSnapshot]:
        papers = []
        for i in range(count):
            venue = self.random.choice(VENUES)
            papers.append(PaperSnapshot(
                paper_id=f"p{i:07d}", title=self.title(),
                authors=[f"{self.random.choice(FIRST)} {self.random.choice(LAST)}"
                         for _ in range(self.random.randint(1, 5))],
                venue=venue, venue_key=venue.lower(), year=self.random.randint(2000, 2025),
                abstract=self.text(self.random.randint(30, 60)) + ".",
                keywords=[self.word() for _ in range(3)],
            ))
        return papers

    def summaries(self, papers: list[PaperSnapshot], count: int) -> Iterator[SummaryState]:
        for i in range(count):
            paper = papers[i % len(papers)] if i < len(papers) else self.random.choice(papers)
            created = EPOCH + timedelta(seconds=i * 37)
            sentences = [self.text(self.random.randint(8, 20)).capitalize() + "." for _ in range(
                self.random.randint(5, 14))]
            anonymous = self.random.random() < 0.1
            yield SummaryState(
                summary_id=f"s{i:07d}", paper=paper, author_id=None if anonymous else f"u{i % 5000}",
                author_username=None if anonymous else f"user{i % 5000}", body=" ".join(sentences),
                visibility="public", anonymous=anonymous, hidden=False, deleted=False,
                score=int(self.random.paretovariate(1.5)) - 1, revision=1, created_at=created, updated_at=created,
            )

    def events(self, n_papers: int, n_summaries: int):
        papers = self.papers(n_papers)
        for p in papers:
            yield PaperRegistered(paper=p).envelope(aggregate_id=p.paper_id, aggregate_version=1, producer="bench")
        for s in self.summaries(papers, n_summaries):
            yield SummaryPublished(summary=s).envelope(aggregate_id=s.summary_id, aggregate_version=1,
                                                       producer="bench")

    def queries(self, n: int, papers: list[PaperSnapshot]) -> list[dict]:
        """A fixed mix: single words, two words, phrases, prefixes, with and without filters."""
        out = []
        for i in range(n):
            kind = i % 6
            if kind == 0:
                params = {"q": self.word()}
            elif kind == 1:
                params = {"q": f"{self.word()} {self.word()}"}
            elif kind == 2:
                words = self.random.choice(papers).title.lower().split()
                start = self.random.randrange(max(len(words) - 1, 1))
                params = {"q": '"' + " ".join(words[start:start + 2]) + '"'}
            elif kind == 3:
                params = {"q": self.word()[:4] + "*"}
            elif kind == 4:
                params = {"q": self.word(), "venue": self.random.choice(VENUES).lower(), "year_from": 2010}
            else:
                params = {"q": f"{self.word()} -{self.word()}", "sort": self.random.choice(["newest", "score"])}
            out.append(params)
        return out

    def prefixes(self, n: int, papers: list[PaperSnapshot]) -> list[str]:
        out = []
        for _ in range(n):
            word = self.random.choice(self.random.choice(papers).title.split())
            out.append(word[: self.random.randint(2, max(2, min(5, len(word))))])
        return out
