"""Teaching: guided lessons, reading a training history as a teacher would, plain meanings of terms.

    lessons.py  lessons from assets/lessons;  diagnostics.py  overfitting, plateaus, divergence;  glossary.py
"""

from nnbuilder.teach.diagnostics import Diagnosis, diagnose, explain_failure
from nnbuilder.teach.glossary import glossed_terms
from nnbuilder.teach.lessons import (Lesson, apply_patch, get_lesson, lesson_data, list_lessons, short_reference,
                                     spec_difference)

__all__ = ["Diagnosis", "Lesson", "apply_patch", "diagnose", "explain_failure", "get_lesson", "glossed_terms",
           "lesson_data", "list_lessons", "short_reference", "spec_difference"]
