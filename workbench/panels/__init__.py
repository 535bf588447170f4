"""ipywidgets panels over the workbench's stages (the only package that imports ipywidgets).

Each panel takes a domain config, calls the same ``run_*`` function as the CLI, and shows
progress, results and errors in place.
"""

from workbench.panels.evaluate import EvaluatePanel
from workbench.panels.generate import GeneratePanel
from workbench.panels.label import LabelPanel
from workbench.panels.review import ReviewPanel
from workbench.panels.task import TaskPanel
from workbench.panels.train import TrainPanel

__all__ = ["EvaluatePanel", "GeneratePanel", "LabelPanel", "ReviewPanel", "TaskPanel", "TrainPanel"]
