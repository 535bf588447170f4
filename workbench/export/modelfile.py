"""The Ollama ``Modelfile`` written beside an exported GGUF.

Its ``TEMPLATE`` is the student's training prompt itself: the SFT chat prompt
(:func:`workbench.train.sft.chat_prompt`) rendered around a marker and cut there, so Ollama
puts the message (``{{ .Prompt }}``) exactly where the student learned to read it, system
text and all. Decoding is greedy (``temperature 0``), as the export was checked.

Example:
    >>> print(modelfile("student.gguf", "<|im_start|>user\\n", "<|im_end|>\\n<|im_start|>assistant\\n",
    ...                 stops=["<|im_end|>"], num_predict=200, source="support_replies/smollm2-135m-x"))
    # Ollama: `ollama create <name> -f Modelfile` in this folder, then `ollama run <name>`.
    # Exported by the SLM Workbench from run support_replies/smollm2-135m-x.
    FROM ./student.gguf
    TEMPLATE \"\"\"<|im_start|>user
    {{ .Prompt }}<|im_end|>
    <|im_start|>assistant
    \"\"\"
    PARAMETER temperature 0
    PARAMETER num_predict 200
    PARAMETER stop "<|im_end|>"
    <BLANKLINE>
"""

from __future__ import annotations

import json

from workbench.errors import WorkbenchError

MARKER = "\u2063WORKBENCH-MESSAGE\u2063"  # an invisible separator no real template holds


class ModelfileError(WorkbenchError):
    """A prompt an Ollama Modelfile cannot hold."""


def prompt_parts(tok) -> tuple[str, str]:
    """(before, after) the message in the student's training prompt (its tokenizer ``tok``)."""
    from workbench.train.sft import chat_prompt

    rendered = chat_prompt(tok, MARKER)
    if rendered.count(MARKER) != 1:
        raise ModelfileError("the student's chat template does not put the message in its prompt once; "
                             "an Ollama template cannot be made from it")
    before, after = rendered.split(MARKER)
    return before, after


def _go_literal(text: str) -> str:
    """``text`` as literal Go template text (``{{`` would open an action)."""
    return text.replace("{{", '{{ "{{" }}')


def modelfile(gguf_name: str, before: str, after: str, stops: list[str], num_predict: int, source: str) -> str:
    """The Modelfile text for ``gguf_name`` (a file beside it), prompting as ``before`` + message + ``after``."""
    template = _go_literal(before) + "{{ .Prompt }}" + _go_literal(after)
    if '"""' in template:
        raise ModelfileError('the student\'s prompt holds """, which an Ollama Modelfile cannot quote')
    lines = ["# Ollama: `ollama create <name> -f Modelfile` in this folder, then `ollama run <name>`.",
             f"# Exported by the SLM Workbench from run {source}.",
             f"FROM ./{gguf_name}",
             f'TEMPLATE """{template}"""',
             "PARAMETER temperature 0",
             f"PARAMETER num_predict {num_predict}"]
    lines += [f"PARAMETER stop {json.dumps(s, ensure_ascii=False)}" for s in dict.fromkeys(stops) if s]
    return "\n".join(lines) + "\n"
