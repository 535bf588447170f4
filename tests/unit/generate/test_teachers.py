import pytest

from workbench.generate.teachers import TeacherSpec, TeacherSpecError, build_teacher, generation_kwargs


def test_parse_the_three_kinds():
    t = TeacherSpec.parse("llamacpp:gemma3-270m")
    assert (t.kind, t.model, t.mode) == ("llamacpp", "gemma3-270m", "completion")
    assert TeacherSpec.parse("smollm2-135m-instruct").mode == "chat"
    assert TeacherSpec.parse("llamacpp:/models/x.gguf?mode=completion").mode == "completion"
    o = TeacherSpec.parse("openai:qwen2.5@http://127.0.0.1:8000/v1")
    assert (o.kind, o.model, o.base_url, o.mode) == ("openai", "qwen2.5", "http://127.0.0.1:8000/v1", "chat")
    assert TeacherSpec.parse("transformers:/m/folder").kind == "transformers"


@pytest.mark.parametrize("spec,fragment", [
    ("foo:bar", "unknown kind 'foo'"),
    ("llamacpp:gpt5", "neither a bundled GGUF model"),
    ("openai:gpt-4o", "write openai:<model>@<base_url>"),
    ("llamacpp:", "no model given"),
    ("gemma3-270m?mode=poem", "mode must be"),
])
def test_bad_specs_say_what_to_write(spec, fragment):
    with pytest.raises(TeacherSpecError, match=fragment):
        TeacherSpec.parse(spec)


def test_the_api_key_comes_from_the_environment_and_stays_out_of_the_spec(monkeypatch):
    from workbench.settings import get_settings

    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", "sk-test-secret-123456")
    get_settings.cache_clear()
    spec = "openai:m@http://127.0.0.1:9/v1"
    llm = build_teacher(spec)
    assert llm.api_key.get_secret_value() == "sk-test-secret-123456"
    assert "sk-test" not in str(TeacherSpec.parse(spec)) and "sk-test" not in repr(get_settings())


def test_generation_kwargs_keep_what_the_backend_accepts():
    class Plain:
        def generate(self, inputs, num_generations=1, max_new_tokens=8, temperature=1.0):
            pass

    assert generation_kwargs(Plain(), max_new_tokens=5, stop=["\n"], top_p=None) == {"max_new_tokens": 5}
