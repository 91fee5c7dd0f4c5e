"""Models behind one registry of names.

Every model is a scikit-learn-compatible classifier: ``fit(X, y)`` returns
``self`` and ``predict_proba(X)[:, 1]`` is p_gc. Tabular models take the 29
published features (scaling is part of the model), image models the
(n, 2, 20, 20) cut-outs.
"""

from ._registry import *  # noqa: F403
from . import _registry
from . import _calibration, _tabular  # tabular models first: registry order = report order (helper 5)
from ._calibration import *  # noqa: F403,E402
from ._tabular import *  # noqa: F403,E402

from . import _cnn, _mlp, _published, _tabnet, _torch  # neural models (helper 6)
from ._cnn import *  # noqa: F403,E402
from ._mlp import *  # noqa: F403,E402
from ._published import *  # noqa: F403,E402
from ._tabnet import *  # noqa: F403,E402
from ._torch import load_checkpoint, save_checkpoint  # noqa: E402
from ._reuse import fit_or_reuse, reusing_fits  # noqa: E402
from ._uncertainty import VIRTUAL_ENSEMBLE_SIZE, predict_proba_std  # noqa: E402

__all__ = [*_registry.__all__, *_calibration.__all__, *_tabular.__all__, *_cnn.__all__, *_mlp.__all__, *_published.__all__, *_tabnet.__all__, "save_checkpoint", "load_checkpoint",
           "fit_or_reuse", "reusing_fits", "predict_proba_std", "VIRTUAL_ENSEMBLE_SIZE"]
