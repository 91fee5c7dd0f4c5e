"""One registry of model names, so that every command accepts the same names."""

from dataclasses import dataclass, field
from typing import Callable

from .._errors import GlobsmlError

__all__ = ["ModelSpec", "register_model", "make_model", "model_names", "model_spec"]


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model.

    Attributes
    ----------
    name : str
        The registry name (``"forest"``, ``"cnn"``, ...).
    factory : callable
        ``factory(random_state=..., **params)`` returns an unfitted
        scikit-learn-compatible classifier with ``fit``/``predict_proba``.
    input : {"features", "images"}
        What ``fit`` and ``predict_proba`` take: a DataFrame of the 29
        published features (raw, unscaled: scaling is part of the model), or
        an (n, 2, 20, 20) array of cut-outs.
    description : str
        One line for ``--help`` and reports.
    published : bool
        Whether the model is one of Dold & Fahrion 2022.
    quick : dict
        Parameter overrides of the ``--quick`` profile (fast, for CI).
    pretrained : bool
        Whether the model comes trained (a published network): it predicts
        but is not fitted, and the benchmark's ``all`` leaves it out.
    shares_fit_with : str
        The model whose work this one reuses inside
        :func:`globsml.models.reusing_fits`: its whole fit (same estimator,
        seed and data: ``"forest"`` for ``calibrated-forest``), part of it
        (``adaboost``'s first round is the first 50 trees of ``"forest"``)
        or its neighbour search (``"knn"`` for ``1nn``); ``""`` for none. The
        benchmark runs the two in one worker, the other one first, so that
        the work is found there.
    cost : float
        Rough seconds of one fit and prediction on the All2All split of the
        full-size mock (65k training rows, one core), as measured in
        ``benchmarks/results/bench_benchmark_fullmock_published_one_split.md``
        and ``..._neural.md``. Only the order of the benchmark's work
        depends on it (the costliest first, so that the cores stay busy to
        the end), never a result.
    """

    name: str
    factory: Callable
    input: str = "features"
    description: str = ""
    published: bool = True
    quick: dict = field(default_factory=dict)
    pretrained: bool = False
    shares_fit_with: str = ""
    cost: float = 1.0


_REGISTRY = {}


def register_model(name, factory, *, input="features", description="", published=True, quick=None,
                   pretrained=False, shares_fit_with="", cost=1.0):
    """Add a model to the registry (``name`` must be new); the arguments are :class:`ModelSpec`'s."""
    if input not in ("features", "images"):
        raise ValueError(f"input must be 'features' or 'images', got {input!r}")
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is registered already")
    _REGISTRY[name] = ModelSpec(name, factory, input, description, published, dict(quick or {}), bool(pretrained),
                                str(shares_fit_with or ""), float(cost))
    return _REGISTRY[name]


def model_spec(name):
    """The :class:`ModelSpec` of a registered name; a clear error otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GlobsmlError(
            f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}"
        ) from None


def model_names(*, input=None, published=None, pretrained=None):
    """Registered names, in registration order, optionally filtered."""
    return [
        s.name
        for s in _REGISTRY.values()
        if (input is None or s.input == input) and (published is None or s.published == published)
        and (pretrained is None or s.pretrained == pretrained)
    ]


def make_model(name, *, random_state=0, quick=False, **params):
    """A new, unfitted estimator of a registered model.

    Parameters
    ----------
    name : str
        A registry name.
    random_state : int
        Seed; the same seed gives the same fitted model.
    quick : bool
        Apply the model's ``--quick`` overrides (fewer trees, epochs...).
    **params
        Overrides of the model's published defaults.

    Examples
    --------
    >>> from globsml.models import make_model
    >>> forest = make_model("forest", random_state=1, quick=True)
    >>> forest.steps[-1][1].n_estimators, forest.steps[-1][1].random_state
    (20, 1)
    """
    spec = model_spec(name)
    kwargs = {**(spec.quick if quick else {}), **params}
    return spec.factory(random_state=random_state, **kwargs)
