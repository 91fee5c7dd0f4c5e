"""What a bundle may hold: an explicit list of types, and nothing callable.

A bundle is a file from a stranger until it is checked. Its manifest hash
detects corruption, not tampering (whoever edits a bundle can re-hash it),
so safety rests here: before skops builds anything, every node of the
skops schema must be a plain data node (no function, bound method,
``functools.partial`` or ``operator`` callable, which a crafted
``FunctionTransformer`` would call at predict time) of a type named in
:data:`BUNDLE_TYPES`; torch and CatBoost members are rebuilt only through
the classes in :data:`NATIVE_CLASSES`.

The lists are exactly the types that globsml's registered models contain
once fitted (``tests/inference/test_trust.py`` trains every registered
model, saves it and checks that it is so); they are written out here,
rather than computed from the registry at load time, so that loading a
tabular bundle imports neither the models nor torch.
"""

import io
import json
import zipfile

from .._errors import GlobsmlError

__all__ = ["BUNDLE_TYPES", "EARLIER_BUNDLE_TYPES", "NATIVE_CLASSES", "check_skops_types", "check_native_class"]

#: What bundles saved by earlier versions hold and the current models do not:
#: scikit-learn's own classes, from which the models' Shared*/Seeded* classes
#: derive (they change how a fit is shared, not what a fitted model is).
EARLIER_BUNDLE_TYPES = frozenset({
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
})

#: Estimators and transformers of the registered models, their fitted
#: internals, and the data types that hold their numbers (and
#: :data:`EARLIER_BUNDLE_TYPES`).
BUNDLE_TYPES = frozenset({
    # estimators and transformers (the registry's models, unfitted)
    "sklearn.pipeline.Pipeline",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.kernel_approximation.Nystroem",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.frozen._frozen.FrozenEstimator",
    "globsml.models._calibration.ValidationCalibratedClassifier",
    "globsml.models._tabular.ScaledNystroem",
    "globsml.models._tabular.SharedNeighborsClassifier",
    "globsml.models._tabular.SharedForestClassifier",
    "globsml.models._tabular.SeededAdaBoostClassifier",
    "globsml.preprocessing._missing.TrainingMedianImputer",
    "globsml.preprocessing._rescaling.FeatureRescaler",
    # what they hold once fitted
    "sklearn.tree._tree.Tree",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "numpy.random._generator.Generator",
    # data
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType",
    "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32", "numpy.uint64",
    "numpy.uint32", "numpy.uint8", "numpy.intp", "numpy.bool_", "numpy.bool",
}) | EARLIER_BUNDLE_TYPES

#: skops node kinds that rebuild data or an object of a listed type. Left
#: out on purpose: FunctionNode, MethodNode, PartialNode, OperatorFuncNode
#: (callables) and ConstructorFromReduceNode (calls a constructor with
#: stored arguments).
_DATA_NODES = frozenset({
    "DictNode", "DefaultDictNode", "ListNode", "SetNode", "TupleNode", "JsonNode", "TypeNode", "ObjectNode",
    "NdArrayNode", "DTypeNode", "RandomGeneratorNode", "RandomStateNode", "TreeNode", "LossNode",
})

#: Models stored natively (torch state, CatBoost binary): the classes a
#: bundle's manifest may name for them.
NATIVE_CLASSES = frozenset({
    "globsml.models._cnn.GCCNNClassifier",
    "globsml.models._cnn.CNNKNNClassifier",
    "globsml.models._mlp.GCMLPClassifier",
    "globsml.models._tabnet.GCTabNetClassifier",
    "globsml.models._published.PublishedCNNClassifier",
    "globsml.inference._fast.FastCatBoostClassifier",
    "catboost.core.CatBoostClassifier",
})


def _schema_nodes(node, out):
    """Collect (node kind, dotted type) of every skops node in a schema."""
    if isinstance(node, dict):
        if "__module__" in node or "__class__" in node or "__loader__" in node:
            out.add((str(node.get("__loader__")), f"{node.get('__module__')}.{node.get('__class__')}"))
        for value in node.values():
            _schema_nodes(value, out)
    elif isinstance(node, list):
        for value in node:
            _schema_nodes(value, out)
    return out


def check_skops_types(data, where, *, size_limit=None):
    """The types of a skops file, after checking each one against the lists.

    Parameters
    ----------
    data : bytes
        The skops file.
    where : str
        Names the file in messages.
    size_limit : int, optional
        Largest total uncompressed size of the skops zip's members (its
        arrays): a file that claims more is refused before it is unpacked.

    Returns
    -------
    list of str
        The dotted types the file holds (all in :data:`BUNDLE_TYPES`), to
        pass to skops as its trusted list.

    Raises
    ------
    GlobsmlError
        Naming the first untrusted objects, before anything is built.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            claimed = sum(info.file_size for info in zf.infolist())
            if size_limit is not None and claimed > size_limit:
                raise GlobsmlError(
                    f"{where}: its skops file claims {claimed} bytes unpacked (limit {size_limit}); refusing to unpack it"
                )
            schema = json.loads(zf.read("schema.json"))
    except GlobsmlError:
        raise
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise GlobsmlError(f"{where}: cannot read the skops file ({exc})") from None
    nodes = _schema_nodes(schema, set())
    callables = sorted(t for kind, t in nodes if kind not in _DATA_NODES)
    untrusted = sorted({t for kind, t in nodes if kind in _DATA_NODES and t not in BUNDLE_TYPES})
    if callables or untrusted:
        named = [f"{t} (a callable)" for t in callables] + untrusted
        raise GlobsmlError(
            f"{where}: holds object(s) that globsml does not load: {', '.join(named)}; "
            "a bundle may hold only the types of globsml's registered models (see globsml.inference.BUNDLE_TYPES)"
        )
    return sorted({t for _, t in nodes})


def check_native_class(dotted, where):
    """Refuse a native model class that no registered model has."""
    if dotted not in NATIVE_CLASSES:
        raise GlobsmlError(
            f"{where}: refuses to rebuild model class {dotted!r}: not one of the classes globsml's models use"
        )
