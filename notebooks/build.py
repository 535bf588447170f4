"""Writes the stage notebooks from the cells below (committed without outputs).

Edit a cell here, then `python notebooks/build.py`: every notebook keeps one `parameters`
cell and short cells over the package, and the text stays the same across notebooks.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent


def params(text: str):
    return new_code_cell(text.strip(), metadata={"tags": ["parameters"]})


def code(text: str):
    return new_code_cell(text.strip())


def md(text: str):
    return new_markdown_cell(text.strip())


INTERACTIVE = "interactive = True   # False: the cells press the buttons themselves (papermill, make demo)"

GENERATE = [
    code("""
generate = GeneratePanel(GenerateConfig(task=task, n=n, teacher=teacher, seed=seed, plan=plan))
if not interactive:
    press(generate)
generate
"""),
    code("""
if generate.result is None:
    print("Press Generate above, then run this cell.")
else:
    record("version", generate.result.version.version)
    record("rows", generate.result.counts["kept"])
    record("rejected", sum(generate.result.counts.get("rejected", {}).values()))
"""),
]

REVIEW = [
    code("""
# A remote Argilla when ARGILLA_API_URL / WORKBENCH_ARGILLA_URL is set, else the local one (started if needed).
record("argilla_url", ensure_argilla())
review = ReviewPanel(ReviewConfig(task=task, version=version, policy=policy, dataset=argilla_dataset))
if not interactive:
    press(review, "push")
    press(review, "run")
review
"""),
    code("""
if review.pulled is None:
    print("Push, review in Argilla (the link above), then Pull and run this cell.")
else:
    counts = review.pulled.counts
    record("dataset", f"reviewed/{review.pulled.version.version}")
    record("reviewed", counts["reviewed"])
    record("decisions", counts["decisions"])
    record("agreement", counts["agreement"]["value"])
"""),
]

LABEL = [
    code("""
label = LabelPanel(LabelConfig(task=task, budget=budget, strategy=strategy, pseudo_labels=pseudo_labels,
                               push=push, dataset=argilla_dataset))
if not interactive:
    press(label)
label
"""),
    code("""
if label.result is None:
    print("Press Label above, then run this cell.")
else:
    record("pool_version", label.result.record.pool_version)
    record("to_review", len(label.result.record.chosen))
    record("per_label", label.result.record.per_label)
    record("out_of_scope", label.result.record.abstained)
"""),
]

TRAIN = [
    code("""
train = TrainPanel(TrainConfig(task=task, student=student, dataset=dataset, epochs=epochs, max_steps=max_steps))
if not interactive:
    press(train)
train
"""),
    code("""
if train.result is None:
    print("Press Train above, then run this cell.")
else:
    record("run", str(train.result.run_dir))
    record("metrics", train.result.metrics)
    train.result
"""),
]

EVALUATE = [
    code("""
evaluate = EvaluatePanel(EvaluateConfig(task=task, runs=[run] if run else None, strategies=strategies,
                                        students=students, limit=limit, plan_size=plan_size), top_up=top_up)
if not interactive:
    press(evaluate)
    press(evaluate, "plan_next")
evaluate
"""),
    code("""
if evaluate.result is None:
    print("Press Evaluate above, then run this cell.")
else:
    best = evaluate.result.recommendation.to_dict()
    record("best", {k: best[k] for k in ("strategy", "model", "metric", "value", "meets_bar")})
    record("table", evaluate.result.table())
    record("report", str(evaluate.result.report_html))
    record("plan", str(evaluate.result.plan_path) if evaluate.result.plan_path else None)
    record("plan_status", evaluate.plan_status)  # errors | top_up | no_errors (nothing to generate)
    evaluate.result
"""),
]

NEXT_ROUND = [
    md("""
## 5. The next round
**Plan next round** above turns the student's errors into a generation plan (labels and confusable
pairs, with counts); **Generate** runs it. Then review, train and evaluate again, from step 2.
No errors on the held-out set means nothing to plan, and the panel says so; tick *top up* (or set
`top_up = True`) to plan new examples for the weakest labels instead.
"""),
    code("""
if regenerate and not interactive:
    next_round = press(evaluate, "generate_next")  # None when the plan asks for nothing
    record("plan_status", evaluate.plan_status)
    record("next_version", next_round.version.version if next_round else None)
"""),
]

NOTEBOOKS = {
    "01_generate.ipynb": [
        md("""
# 1. Generate
A teacher model writes synthetic examples for the task. Check the task, set the teacher and the
number of rows, press **Generate**: the sample and the rejection counts appear in the panel.
Headless (`interactive = False`, as `workbench pipeline run` does) the cells press the buttons.
"""),
        params(f"""
task = "support_intents"
n = 300              # rows wanted
teacher = None       # None: WORKBENCH_TEACHER, else the bundled gemma3-270m; or "openai:<model>@<base_url>"
seed = 0
plan = None          # a plan.yaml written by 04_evaluate: a round aimed at the student's errors
{INTERACTIVE}
"""),
        code("""
from workbench.generate import GenerateConfig
from workbench.notebook import press, record
from workbench.panels import GeneratePanel, TaskPanel

TaskPanel(task)
"""),
        *GENERATE,
    ],
    "02_review.ipynb": [
        md("""
# 2. Review
Push the synthetic rows to Argilla with the teacher's answer as a suggestion, review them there
(the link in the panel), and pull a reviewed version that keeps every decision. Policy `human`
takes what people reviewed, `wait` stops until all is reviewed, `auto` lets the auto-reviewer
decide what people did not.
"""),
        params(f"""
task = "support_intents"
version = None       # synthetic version to push; None: the latest
policy = "human"     # human | wait | auto
argilla_dataset = None  # the dataset's name in Argilla; None: the task's name
{INTERACTIVE}
"""),
        code("""
from workbench.notebook import press, record
from workbench.panels import ReviewPanel
from workbench.review import ReviewConfig
from workbench.review.connection import ensure_argilla
"""),
        *REVIEW,
    ],
    "05_label.ipynb": [
        md("""
# Label the team's own messages
The task's `unlabeled:` file (a ticket export, a chat log) becomes a versioned pool; the current
student (the latest fine-tuned run, else a classifier on MiniLM vectors of the seeds and reviewed
rows) labels every message, and the `budget` it is least sure about, spread over the intents, go
to Argilla with its label as the suggestion. Review them in 2, pull, train, and label again.
"""),
        params(f"""
task = "clinc_bank"
budget = 30          # messages people review this round
strategy = "default" # default | margin | cluster | random
pseudo_labels = False  # also save the messages the student is sure about, for training
push = True          # False: choose and show only
argilla_dataset = None  # the dataset's name in Argilla; None: the task's name
{INTERACTIVE}
"""),
        code("""
from workbench.label import LabelConfig
from workbench.notebook import press, record
from workbench.panels import LabelPanel
"""),
        *LABEL,
    ],
    "03_train.ipynb": [
        md("""
# 3. Train
Fine-tune a small student (LoRA) on the reviewed data; the loss plot is live, and the run folder
holds the model, its card and the curves.
"""),
        params(f"""
task = "support_intents"
student = None       # None: the task's default (minilm-l6); smollm2-135m, gemma3-270m or a local HF folder
dataset = None       # e.g. "reviewed/v001"; None: the latest reviewed version, else the latest synthetic
epochs = None        # None: the task's default
max_steps = None     # stop after N steps (quick looks)
{INTERACTIVE}
"""),
        code("""
from workbench.notebook import press, record
from workbench.panels import TrainPanel
from workbench.train import TrainConfig
"""),
        *TRAIN,
    ],
    "04_evaluate.ipynb": [
        md("""
# 4. Evaluate
Every strategy on the same held-out set: teacher, student prompt-only, few-shot, retrieval,
fine-tuned, fine-tuned + retrieval; quality against latency, and the smallest model and strategy
that meets the task's bar. **Plan next round** turns the errors into the next generation plan.
"""),
        params(f"""
task = "support_intents"
run = None           # a train run folder; None: the latest finished run of each student
strategies = None    # e.g. ["prompt", "fewshot", "finetuned"]; None: all
students = None      # e.g. ["minilm-l6"]; None: the bundled three
limit = None         # score only N held-out rows (quick looks)
plan_size = 100      # new examples the next round's plan asks for
top_up = False       # no errors: plan new examples for the weakest labels instead of nothing
{INTERACTIVE}
"""),
        code("""
from workbench.evaluate import EvaluateConfig
from workbench.notebook import press, record
from workbench.panels import EvaluatePanel
"""),
        *EVALUATE,
    ],
    "00_end_to_end.ipynb": [
        md("""
# The whole loop
Pick a task, generate, review in Argilla, train, evaluate, and plan the next round, each from its
panel. In JupyterLab press the buttons in order; headless (`interactive = False`) the cells do.
The stage notebooks `01_generate` ... `04_evaluate` hold the same steps one by one.
"""),
        params(f"""
task = "support_intents"
n = 300              # synthetic rows
teacher = None       # None: WORKBENCH_TEACHER, else the bundled gemma3-270m; or "openai:<model>@<base_url>"
seed = 0
plan = None
version = None
policy = "human"     # review: human | wait | auto
argilla_dataset = None
student = None       # None: the task's default
dataset = None
epochs = None
max_steps = None
run = None
strategies = None
students = None
limit = None
plan_size = 100
top_up = False       # no errors: plan new examples for the weakest labels instead of nothing
regenerate = False   # headless: also generate the planned next round
{INTERACTIVE}
"""),
        code("""
from workbench.evaluate import EvaluateConfig
from workbench.generate import GenerateConfig
from workbench.notebook import press, record
from workbench.panels import EvaluatePanel, GeneratePanel, ReviewPanel, TaskPanel, TrainPanel
from workbench.review import ReviewConfig
from workbench.review.connection import ensure_argilla
from workbench.train import TrainConfig

TaskPanel(task)
"""),
        md("## 1. Generate"),
        *GENERATE,
        md("## 2. Review"),
        *REVIEW,
        md("## 3. Train"),
        *TRAIN,
        md("## 4. Evaluate"),
        *EVALUATE,
        *NEXT_ROUND,
    ],
}


def build(folder: Path = HERE) -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}})
        for i, cell in enumerate(nb.cells):  # stable ids: rebuilding changes nothing in git
            cell["id"] = f"{name.split('_')[0]}-{i:02d}"
        nbformat.write(nb, str(folder / name))


if __name__ == "__main__":
    build()
