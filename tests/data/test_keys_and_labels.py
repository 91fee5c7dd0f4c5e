"""(galaxy, ID) keys and pGC labels are checked where they are used, not only by ``validate``."""

import numpy as np
import pandas as pd
import pytest

from globsml import DataFormatError
from globsml.data import GCDataset, load_dataset


def _table(n=6):
    return pd.DataFrame({"galaxy": ["FCC1"] * 3 + ["VCC1"] * (n - 3), "ID": list(range(3)) + list(range(n - 3)),
                         "pGC": np.linspace(0.1, 0.9, n)})


#: Broken keys: (column, row, value, message).
BROKEN_KEYS = {
    "text ID": ("ID", 1, "seven", r"galaxy 'FCC1', ID 'seven' \(row 1; 1 such row\(s\)\): the ID must be a non-negative integer"),
    "fractional ID": ("ID", 2, 1.5, r"ID 1\.5 .*must be a non-negative integer"),
    "negative ID": ("ID", 4, -1, r"ID -1 .*(negative ID|non-negative integer)"),
    "missing ID": ("ID", 0, np.nan, r"ID nan .*non-negative integer"),
    "duplicate key": ("ID", 1, 0, r"galaxy 'FCC1', ID 0 .*appears more than once"),
    "empty galaxy": ("galaxy", 3, "", r"empty galaxy name in row 3"),
    "blank galaxy": ("galaxy", 3, "   ", r"empty galaxy name in row 3"),
    "missing galaxy": ("galaxy", 5, np.nan, r"empty galaxy name in row 5"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_KEYS))
def test_broken_keys_are_refused_on_load(tmp_path, case):
    column, row, value, message = BROKEN_KEYS[case]
    table = _table().astype({column: object})
    table.loc[row, column] = value
    table.to_csv(tmp_path / "ACS_sources_original.csv")
    with pytest.raises(DataFormatError, match=message):
        load_dataset(tmp_path)
    with pytest.raises(DataFormatError, match=message if case != "missing galaxy" else "empty galaxy"):
        GCDataset(table, name="frame")


def test_integral_float_ids_become_integers():
    ds = GCDataset(_table().astype({"ID": float}))
    assert ds.sources["ID"].dtype == np.int64


#: Broken labels: (value, message).
BROKEN_LABELS = {
    "text": ("yes", r"pGC 'yes' is not a number"),
    "NaN": (np.nan, r"pGC nan is missing \(a NaN label is not a non-GC"),
    "above 1": (1.5, r"pGC 1\.5 lies outside \[0, 1\]"),
    "negative": (-0.2, r"pGC -0\.2 lies outside \[0, 1\]"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_LABELS))
def test_broken_labels_are_refused_where_labels_are_used(case):
    value, message = BROKEN_LABELS[case]
    table = _table().astype({"pGC": object})
    table.loc[4, "pGC"] = value
    ds = GCDataset(table, name="t.csv")
    with pytest.raises(DataFormatError, match=r"t\.csv: galaxy 'VCC1', ID 1 \(row 4; 1 such row\(s\)\): " + message):
        ds.y


def test_training_on_nan_labels_is_refused_not_read_as_non_gcs(tmp_path, capsys):
    """The old behaviour: NaN >= 0.5 is False, so a NaN label became a non-GC."""
    from globsml.cli import main

    rng = np.random.default_rng(0)
    table = pd.concat([_table(40).assign(galaxy=g) for g in ("FCC1", "FCC2", "VCC1", "VCC2")], ignore_index=True)
    table["ID"] = table.groupby("galaxy").cumcount()
    from globsml.data import FEATURES

    for name in FEATURES:
        table[name] = rng.normal(size=len(table))
    table.loc[7, "pGC"] = np.nan
    table.to_csv(tmp_path / "ACS_sources_original.csv")
    code = main(["train", "--data", str(tmp_path), "--model", "tree", "--setup", "all2all", "--out",
                 str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2 and "pGC nan is missing" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "b").exists()
