"""Teacher specs become suggestion agents that Argilla's API accepts."""

import re

import pytest

from workbench.review.sync import suggestion_agent

# argilla-server 2.8's pattern for SuggestionCreate.agent
ARGILLA_AGENT = re.compile(r"^[a-zA-Z0-9-_:\.\/\s]*[a-zA-Z0-9][a-zA-Z0-9-_:\.\/\s]*$")


@pytest.mark.parametrize("teacher, agent", [
    ("llamacpp:gemma3-270m?mode=completion", "llamacpp:gemma3-270m mode completion"),
    ("openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1", "openai:qwen2.5-7b-instruct http://127.0.0.1:8000/v1"),
    ("llamacpp:/models/My Model (Q4).gguf", "llamacpp:/models/My Model Q4 .gguf"),
    ("???", "teacher"),
])
def test_teacher_specs_become_valid_agents(teacher, agent):
    assert suggestion_agent(teacher) == agent
    assert ARGILLA_AGENT.match(agent)
