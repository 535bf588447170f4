"""Train stage: LoRA fine-tuning of small students (see :mod:`workbench.train.run`).

Importing this package is cheap: torch and transformers load when a run starts.
"""

from workbench.train.config import TrainConfig
from workbench.train.data import TrainDataError
from workbench.train.predict import TrainedStudent, find_run, load_student
from workbench.train.run import TrainResult, run_train
from workbench.train.students import UnknownStudentError, list_students

__all__ = ["TrainConfig", "TrainDataError", "TrainResult", "TrainedStudent", "UnknownStudentError", "find_run",
           "list_students", "load_student", "run_train"]
