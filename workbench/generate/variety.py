"""Variety on purpose: each prompt of a chat teacher asks for a stated length and one more trait.

A coherent teacher left alone writes messages that are longer, cleaner and more alike than real
ones. So each job states what its batch should look like: one of the task's lengths, plus a
register, a persona, typos, or one detail from the label's description, rotated by the job's
index (deterministic: a resumed run asks the same). Lengths (3 by default) and trait kinds (up
to 4) cycle side by side, so a label's first dozen prompts all differ.

Example:
    >>> from workbench.tasks import Label, VarietySpec
    >>> lab = Label(name="billing_issue", description="duplicate charges; refunds of a charge")
    >>> [direction(VarietySpec(), lab, i) for i in (0, 3)]
    ['short, 4 to 8 words, as typed in a chat box; casual, all lowercase, little punctuation', 'short, 4 to 8 words, as typed in a chat box; about this case: duplicate charges']
    >>> direction(VarietySpec(enabled=False), lab, 0) is None
    True
"""

from __future__ import annotations

from workbench.tasks import Label, VarietySpec

TYPOS = "with a typo or two, as typed in a hurry on a phone"
CONCRETE = "each with one concrete detail (an amount, a date, a product, a card or an account)"


def traits(variety: VarietySpec, label: Label) -> list[list[str]]:
    """The trait kinds a job rotates through, each a list of wordings (empty kinds left out)."""
    parts = [p.strip() for p in label.description.split(";") if p.strip()]
    details = [f"about this case: {p}" for p in parts] if len(parts) > 1 else [CONCRETE]
    kinds = [list(variety.registers), [f"written by {p}" for p in variety.personas],
             [TYPOS] if variety.typos else [], details if variety.details else []]
    return [k for k in kinds if k]


def direction(variety: VarietySpec, label: Label | None, index: int) -> str | None:
    """What job ``index`` of a label asks for: "<length>; <trait>"; None when variety is off."""
    if not variety.enabled:
        return None
    said = []
    if variety.lengths:
        said.append(variety.lengths[index % len(variety.lengths)])
    kinds = traits(variety, label) if label is not None else [list(variety.registers)]
    kinds = [k for k in kinds if k]
    if kinds:
        kind = kinds[index % len(kinds)]
        said.append(kind[(index // len(kinds)) % len(kind)])
    return "; ".join(said) or None
