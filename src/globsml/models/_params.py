"""Model parameters given on the command line, checked before the first fit."""

from .._errors import GlobsmlError
from ._registry import make_model

__all__ = ["check_model_params", "estimators_in"]


def estimators_in(estimator):
    """``estimator`` and every estimator among its parameters (pipeline steps, wrapped models), depth first."""
    stack = [estimator]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif hasattr(obj, "get_params") and not isinstance(obj, type):
            yield obj
            stack.extend(obj.get_params(deep=False).values())


def check_model_params(name, params, *, quick=False):
    """Build the registered model ``name`` with ``params`` and validate them, without fitting.

    Unknown parameters and values outside scikit-learn's parameter
    constraints (``n_estimators=-1``, ``max_depth="deep"``) are found here,
    not after minutes of other fits.

    Raises
    ------
    GlobsmlError
        Naming the model and, through scikit-learn's message, the parameter.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        model = make_model(name, quick=quick, **dict(params or {}))
        for est in estimators_in(model):
            if getattr(type(est), "_parameter_constraints", None):
                est._validate_params()
    except GlobsmlError:
        raise
    except TypeError as exc:
        raise GlobsmlError(f"model {name!r} does not take these parameters {params}: {exc}") from None
    except (InvalidParameterError, ValueError) as exc:
        raise GlobsmlError(f"model {name!r}: invalid parameters {params}: {exc}") from None
    return model
