"""Which data an experiment runs on: given, loaded from a path, or the embedded default."""

from ..data import GCDataset, load_dataset

__all__ = ["resolve_dataset"]


def resolve_dataset(data, *, quick=False):
    """The data set an experiment, a training or an explanation runs on.

    Parameters
    ----------
    data : GCDataset, str, Path or None
        A data set (returned as it is), a path for
        :func:`globsml.data.load_dataset`, or ``None`` for the embedded
        default, the mock survey (made into the user cache on first use,
        :func:`globsml.mock.default_data_dir`).
    quick : bool
        For ``None``, the mock survey of a quick look (every galaxy at
        :data:`globsml.mock.QUICK_SCALE` of its sources).

    Returns
    -------
    GCDataset
    """
    if isinstance(data, GCDataset):
        return data
    if data is None:
        from ..mock import default_data_dir  # renders the mock survey once: import only when needed

        data = default_data_dir(quick=quick)
    return load_dataset(data)
