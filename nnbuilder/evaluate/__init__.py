"""How good a trained model is, and why it predicts what it does.

    metrics.py     full metrics per split with scikit-learn's implementations; model outputs
    importance.py  permutation importance of raw columns; per-prediction attributions
    gradients.py   integrated gradients summed back to raw columns;  source.py: a model or a bundle alike
"""

from nnbuilder.evaluate.importance import ExplainError, explainable, integrated_gradients, permutation_importance_table
from nnbuilder.evaluate.metrics import evaluate, model_outputs

__all__ = ["ExplainError", "evaluate", "explainable", "integrated_gradients", "model_outputs",
           "permutation_importance_table"]
