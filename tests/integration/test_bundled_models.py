"""User story: every bundled model loads offline, and conversions are made once."""

import time

import pytest

from workbench.generate.teachers import build_teacher
from workbench.llamacpp import BatchedLlamaCpp, ChatTemplateError, LlamaLM, batched_gguf
from workbench.models import UnknownModelError, get_model, gguf_path, load_embedder, transformers_dir

pytestmark = pytest.mark.slow


def test_registry_names_and_errors():
    assert gguf_path("gemma3-270m").suffix == ".gguf" and gguf_path("smollm2-135m-instruct").is_file()
    with pytest.raises(UnknownModelError, match="choose one of"):
        get_model("llama-70b")
    with pytest.raises(UnknownModelError, match="not a GGUF model"):
        gguf_path("minilm-l6")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gguf_path("/nowhere/model.gguf")


def test_minilm_embeds_offline():
    model = load_embedder("minilm-l6")
    emb = model.encode(["where is my coffee", "where is my coffee box", "reset my password"],
                       normalize_embeddings=True)
    assert emb.shape == (3, 384)
    assert float(emb[0] @ emb[1]) > float(emb[0] @ emb[2]) + 0.2


def test_batched_engine_respects_stops_and_limits():
    engine = BatchedLlamaCpp(batched_gguf("gemma3-270m"), slots=4, threads=2)
    try:
        prompts = ["Coffee orders:\n1. Where is my box?\n2. My beans are late\n3."] * 3 + ["The capital of France is"]
        outs = engine.generate(prompts, max_new_tokens=24, stop=["\n"], seeds=[1, 2, 3, 4])
        assert len(outs) == 4
        for o in outs:
            assert "\n" not in o.text and 0 < o.completion_tokens <= 24 and o.prompt_tokens > 5
        assert len({o.text for o in outs[:3]}) >= 2  # other seeds, other samples
        # more prompts than slots, twice: slots are refilled and reuse cached prompt prefixes
        for _ in range(2):
            many = engine.generate([p + " " + str(i) for i, p in enumerate(prompts * 2)], max_new_tokens=8,
                                   seeds=list(range(8)))
            assert len(many) == 8 and all(o.completion_tokens > 0 for o in many)
    finally:
        engine.close()


def test_gguf_to_transformers_conversion_is_cached_and_generates():
    started = time.perf_counter()
    folder = transformers_dir("smollm2-135m-instruct")
    first = time.perf_counter() - started
    assert (folder / "model.safetensors").is_file() and (folder / "workbench-conversion.json").is_file()
    started = time.perf_counter()
    assert transformers_dir("smollm2-135m-instruct") == folder
    assert time.perf_counter() - started < first / 5  # the second call reuses the cache
    llm = build_teacher("transformers:smollm2-135m-instruct")
    llm.load()
    out = llm.generate([[{"role": "user", "content": "Say hello to a coffee customer."}]], max_new_tokens=12)
    assert out[0]["generations"][0].strip() and out[0]["statistics"]["output_tokens"][0] <= 12
    assert out[0]["statistics"]["input_tokens"][0] > 0


def test_the_engine_and_the_reader_render_one_chat_template():
    messages = [{"role": "user", "content": "Where is my coffee?"}]
    gguf = gguf_path("smollm2-135m-instruct")
    engine, lm = BatchedLlamaCpp(gguf, slots=1, slot_ctx=256, threads=1), LlamaLM(gguf, threads=1, n_ctx=256)
    try:
        prompt = engine.chat_prompt(messages)
        # SmolLM2's BOS text is its turn marker and its tokenizer adds no BOS: the marker stays
        assert prompt == lm.chat_prompt(messages) and prompt.startswith("<|im_start|>system")
        assert prompt.endswith("<|im_start|>user\nWhere is my coffee?<|im_end|>\n<|im_start|>assistant\n")
    finally:
        engine.close()
        lm.close()
    lm = LlamaLM(gguf_path("gemma3-270m"), threads=1, n_ctx=256)  # a base model: no chat template
    try:
        with pytest.raises(ChatTemplateError, match="use it with \\?mode=completion"):
            lm.chat_prompt(messages)
    finally:
        lm.close()
