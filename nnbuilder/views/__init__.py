"""Looking inside a network: decision boundaries, neuron maps, internals.

Importing this package registers each view's training probe (nnbuilder.train.probes.register_probe); a new
view adds its module here.
"""

from nnbuilder.views import boundary  # noqa: F401  (registers the "boundary" probe)
from nnbuilder.views import internals  # noqa: F401  (registers the "internals" probe)
from nnbuilder.views import neurons  # noqa: F401  (registers the "neurons" probe)
from nnbuilder.views.boundary import numeric_features, pair_boundary, why_not  # noqa: E402

__all__ = ["numeric_features", "pair_boundary", "why_not"]
