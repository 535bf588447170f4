"""The label stage: the student labels the unlabeled pool and picks what people review."""
