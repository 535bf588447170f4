"""Turning raw teacher text into clean candidates: parse, validate, deduplicate.

Each function is pure and cheap except :func:`near_duplicates`, which embeds with MiniLM.
Rejections carry a reason, so the manifest can count them.

Example:
    >>> parse_list(" Where is my box?\\n7. \\"My beans are late\\"\\nIntent: other", continuation=True)
    ['Where is my box?', 'My beans are late']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

_ITEM = re.compile(r"^\s*(?:\d{1,3}\s*[.):]|[-*•])\s+(.*)$")
_QUOTES = [('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»")]
# Lines a model writes around a list rather than inside it.
_CHATTER = re.compile(
    r"^(here (are|is)|sure[,!.]|certainly|okay[,.]|these are|i hope|note:|intent:|customer messages|"
    r"messages? (with|for)|examples?:|answer:|output:)",
    re.IGNORECASE,
)


def parse_list(text: str, continuation: bool) -> list[str]:
    """Split a teacher's list into items: numbering, bullets and quotes stripped.

    ``continuation`` is True for completion prompts that end in ``"<n>."``: the first
    line then is an item. The list ends at the first line that is not an item once items
    have started (a base model often wanders into a new section after the list).
    """
    items: list[str] = []
    lines = text.replace("\r", "").split("\n")
    if continuation and lines:
        first = lines.pop(0).strip()
        if not first:
            return []
        items.append(first)
    for line in lines:
        if not line.strip():
            if items and continuation:
                break  # a blank line ends a continued list
            continue
        m = _ITEM.match(line)
        if m:
            items.append(m.group(1))
        elif items:
            break
    return [c for c in (clean_item(i) for i in items) if c]


def clean_item(item: str) -> str:
    s = " ".join(item.split())
    for _ in range(2):  # quotes may wrap a trailing label annotation, or vice versa
        s = re.sub(r"\s*\((?:intent|label)?:?\s*[a-z_]+\)$", "", s)
        for left, right in _QUOTES:
            if len(s) >= 2 and s.startswith(left) and s.endswith(right):
                s = s[1:-1].strip()
    return s


def normalize(text: str) -> str:
    """Lower-case, accents folded, punctuation and extra spaces dropped: for exact matching."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", s).split())


@dataclass(frozen=True)
class Rules:
    min_chars: int
    max_chars: int
    chatter: bool = True  # list items: reject "Here are...", "Intent:"; replies may say "Sure,"


def rejection_reason(text: str, label: str | None, seeds_by_label: dict[str | None, set[str]],
                     rules: Rules) -> str | None:
    """Why a candidate is unusable, or None if it passes.

    ``seeds_by_label`` maps each label (None for generation tasks) to its normalized seeds.
    """
    if len(text) < rules.min_chars:
        return "too_short"
    if len(text) > rules.max_chars:
        return "too_long"
    if rules.chatter and (_CHATTER.match(text) or text.endswith(":")):
        return "chatter"
    norm = normalize(text)
    if not norm:
        return "too_short"
    words = norm.split()
    if len(words) >= 6 and len(set(words)) / len(words) < 0.5:
        return "repetitive"  # a small teacher stuck in a loop ("the Roast the Roast the ...")
    if norm in seeds_by_label.get(label, set()):
        return "copy_of_seed"
    if any(norm in seeds for other, seeds in seeds_by_label.items() if other != label):
        return "other_label_seed"
    return None


def exact_duplicates(texts: Sequence[str]) -> list[bool]:
    """True where a text repeats an earlier one after normalization."""
    seen: set[str] = set()
    out = []
    for t in texts:
        n = normalize(t)
        out.append(n in seen)
        seen.add(n)
    return out


def near_duplicates(embeddings, reference, threshold: float) -> tuple[list[bool], list[float]]:
    """Greedy near-duplicate removal over L2-normalized embeddings.

    A row is dropped when its cosine similarity to a reference row (the seeds) or to an
    earlier kept row exceeds ``threshold``. Returns the drop flags and, per row, the
    highest similarity seen (kept as quality metadata for reviewers).
    """
    import numpy as np

    emb = np.asarray(embeddings, dtype=np.float32)
    ref = np.asarray(reference, dtype=np.float32).reshape(-1, emb.shape[1] if emb.size else 0)
    kept = np.zeros((len(emb) + len(ref), emb.shape[1] if emb.size else 1), dtype=np.float32)
    kept[: len(ref)] = ref
    n_kept = len(ref)
    drop, best = [], []
    for row in emb:
        sim = float((kept[:n_kept] @ row).max()) if n_kept else 0.0
        best.append(round(sim, 4))
        if sim > threshold:
            drop.append(True)
        else:
            drop.append(False)
            kept[n_kept] = row
            n_kept += 1
    return drop, best
