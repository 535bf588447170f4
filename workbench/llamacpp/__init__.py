"""llama.cpp below the stages: one place for everything that runs a GGUF model.

- :mod:`~workbench.llamacpp.runtime`: quiet logs, the GGUF's chat template
  (:func:`chat_prompt`), the KV-cache prefix rule (:func:`shared_prefix`) and the
  re-layout for batched decoding (:func:`batched_gguf`) on llama.cpp's quantizer
  (:func:`quantize_gguf`, which Export uses too);
- :mod:`~workbench.llamacpp.engine`: :class:`BatchedLlamaCpp`, text generation over
  parallel slots (Generate's teachers, Evaluate's reply generators);
- :mod:`~workbench.llamacpp.logprobs`: :class:`LlamaLM`, next-token log-probabilities
  (Evaluate's prompt-only classifier and its judge);
- :mod:`~workbench.llamacpp.labels`: :class:`LabelReader`, the likelihood of each label's name
  after a prompt listing the intents (:func:`intent_prompt`): Evaluate's prompt-only
  classifier and Generate's critic.

It imports the model registry and settings, never a stage. ``llama_cpp`` itself is imported
only when a model loads.

Example:
    >>> from workbench.llamacpp import BatchedLlamaCpp, batched_gguf
    >>> engine = BatchedLlamaCpp(batched_gguf("smollm2-135m-instruct"), slots=2)  # doctest: +SKIP
    >>> prompt = engine.chat_prompt([{"role": "user", "content": "Say hi"}])       # doctest: +SKIP
    >>> engine.generate([prompt], max_new_tokens=8)[0].finish_reason               # doctest: +SKIP
    'length'
"""

from workbench.llamacpp.engine import BatchedLlamaCpp, Completion
from workbench.llamacpp.labels import LabelReader, intent_prompt
from workbench.llamacpp.logprobs import LlamaLM
from workbench.llamacpp.runtime import (
    BATCH_WEIGHTS,
    ChatTemplateError,
    PromptTooLongError,
    batched_gguf,
    chat_prompt,
    quantize_gguf,
    quiet_llama_logs,
    shared_prefix,
)

__all__ = ["BATCH_WEIGHTS", "BatchedLlamaCpp", "ChatTemplateError", "Completion", "LabelReader", "LlamaLM",
           "PromptTooLongError", "batched_gguf", "chat_prompt", "intent_prompt", "quantize_gguf", "quiet_llama_logs", "shared_prefix"]
