"""Calibrate the mock's realism critic on the REAL cut-outs (writes ``mock/data/critic.npz``).

Each round makes the mock of the calibration galaxies (every other
galaxy, in name order, of those with real cut-outs; the rest are held
out for ``benchmarks/mock_realism.py``) with the critic of the rounds
before it, measures the features of both, and trains a
HistGradientBoosting classifier to tell real (1) from mock (0) with
equal numbers of each per galaxy; its trees become the next round
(:mod:`globsml.mock._critic`). Printed per round: the out-of-fold ROC
AUC (galaxies grouped) of telling the round's mock from real, before
that round's classifier is added. Only the trees are shipped.

Usage::

    nice python benchmarks/calibrate_critic.py [--real ../shared/gcdata] [--rounds 3]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from mock_realism import _real_features, two_sample_features  # noqa: E402


def _balanced_index(real, mock, rng):
    """Positions of equal numbers of real and mock rows per galaxy (the smaller of the two)."""
    ri, mi = [], []
    r_idx, m_idx = real.groupby("galaxy").indices, mock.groupby("galaxy").indices
    for g in sorted(set(r_idx) & set(m_idx)):
        k = min(len(r_idx[g]), len(m_idx[g]))
        ri.append(rng.choice(r_idx[g], k, replace=False))
        mi.append(rng.choice(m_idx[g], k, replace=False))
    return np.concatenate(ri), np.concatenate(mi)


def _balanced(real, mock, rng):
    """Equal numbers of real and mock rows per galaxy (the smaller of the two)."""
    ri, mi = _balanced_index(real, mock, rng)
    return real.iloc[ri], mock.iloc[mi]


def train_round(real, mock, *, seed=0):
    """One round: a HistGradientBoosting classifier, real = 1, on the 29 features."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from globsml.data import FEATURES
    from globsml.mock._critic import export_classifier

    X = np.array(pd.concat([real.loc[:, FEATURES], mock.loc[:, FEATURES]], ignore_index=True).to_numpy(float))
    X[~np.isfinite(X)] = np.nan
    y = np.r_[np.ones(len(real)), np.zeros(len(mock))]
    # early stopping on a held-out tenth and some leaf regularisation: the
    # log odds become sampling weights, so they must not be overconfident
    clf = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, min_samples_leaf=100,
                                         l2_regularization=1.0, early_stopping=True,
                                         validation_fraction=0.1, n_iter_no_change=15, random_state=seed)
    clf.fit(X, y)
    return export_classifier(clf, FEATURES), int(clf.n_iter_)


_JOB = {}


def _render_one(i):
    """Features and true parameters of one galaxy's sources (in a worker process)."""
    from globsml.mock._calibration import calibration
    from globsml.mock._critic import source_parameters
    from globsml.mock._survey import make_galaxy

    plan, rng = _JOB["plans"][i]
    src, cut, feats = make_galaxy(plan, rng, calibration(), critic=_JOB["critic"], proposal=_JOB["proposal"])
    theta = source_parameters(src)
    return feats.assign(galaxy=plan.galaxy), theta, cut


def render(galaxies, seed, *, critic=None, proposal=None, jobs=2):
    """The mock sources of some galaxies: measured features and true parameters (two tables), cut-outs."""
    import concurrent.futures as cf
    import multiprocessing as mp

    from tqdm.auto import tqdm

    from globsml.mock._survey import _plans

    plans = [(p, r) for p, r in _plans(seed, 1.0) if p.galaxy in set(galaxies)]
    _JOB.update(plans=plans, critic=critic, proposal=proposal)
    with cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
        out = list(tqdm(pool.map(_render_one, range(len(plans))), total=len(plans), desc="render", leave=False))
    return (pd.concat([o[0] for o in out], ignore_index=True), pd.concat([o[1] for o in out], ignore_index=True),
            np.concatenate([o[2] for o in out]))


def train_pixel_round(real_img, mock_img, *, seed=0, epochs=8):
    """One image round: :func:`globsml.mock._critic.pixel_network` trained on real (1) vs mock (0) pixels.

    A tenth of the cut-outs is held out; the epoch with the lowest held-out
    log loss is kept (its log odds become sampling weights: they must not
    be overconfident).
    """
    import torch

    from globsml.mock._critic import export_network, pixel_inputs, pixel_network

    torch.manual_seed(seed)
    X = torch.from_numpy(pixel_inputs(np.concatenate([real_img, mock_img])))
    y = torch.from_numpy(np.r_[np.ones(len(real_img)), np.zeros(len(mock_img))].astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(y), generator=gen)
    val, tr = perm[: len(y) // 10], perm[len(y) // 10 :]
    net = pixel_network()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    best, best_state = np.inf, None
    for _ in range(epochs):
        net.train()
        order = tr[torch.randperm(len(tr), generator=gen)]
        for s in range(0, len(order), 256):
            b = order[s : s + 256]
            opt.zero_grad()
            loss_fn(net(X[b]).squeeze(1), y[b]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            v = float(loss_fn(net(X[val]).squeeze(1), y[val]))
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in net.state_dict().items()}
    net.load_state_dict(best_state)
    return export_network(net), round(best, 4)


def train_proposal(theta, log_w, *, seed=0):
    """A classifier of true parameters whose log odds estimate log E[w | parameters].

    The rendered sources twice: weighted by their critic weight w (class 1,
    normalised to mean 1) and unweighted (class 0).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    from globsml.mock._critic import SOURCE_PARAMETERS, export_classifier

    w = np.exp(np.clip(log_w, -8, 8))
    w = w / w.mean()
    X = np.concatenate([theta.loc[:, SOURCE_PARAMETERS].to_numpy(float)] * 2)
    y = np.r_[np.ones(len(theta)), np.zeros(len(theta))]
    sw = np.r_[w, np.ones(len(theta))]
    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, min_samples_leaf=200,
                                         l2_regularization=1.0, early_stopping=True, validation_fraction=0.1,
                                         n_iter_no_change=15, random_state=seed)
    clf.fit(X, y, sample_weight=sw)
    return export_classifier(clf, SOURCE_PARAMETERS), int(clf.n_iter_)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "gcdata"))
    parser.add_argument("--proposal-rounds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="critic rounds on the features")
    parser.add_argument("--pixel-rounds", type=int, default=1, help="critic rounds on the pixels, after them")
    parser.add_argument("--final-rounds", type=int, default=0,
                        help="critic rounds on the features after the pixel rounds (what these cost the features)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--resume", action="store_true",
                        help="start from the critic and proposal in --out (and the log in --log) and add "
                             "only --pixel-rounds image rounds and --final-rounds feature rounds")
    parser.add_argument("--real-cache", default="/tmp/globsml_real_features.parquet")
    parser.add_argument("--out", default=str(ROOT / "src" / "globsml" / "mock" / "data"))
    parser.add_argument("--log", default=str(ROOT / "benchmarks" / "results" / "calibrate_critic.json"))
    args = parser.parse_args(argv)

    from globsml.data import image_files
    from globsml.mock._critic import RealismCritic

    t0 = time.perf_counter()
    real_dir = Path(args.real) / "ImageData"
    galaxies = sorted(image_files(real_dir))
    calib = galaxies[::2]
    real = _real_features(real_dir, galaxies, args.real_cache)
    real = real[real["galaxy"].isin(calib)].reset_index(drop=True)
    rng = np.random.default_rng(args.seed)
    proposal, rounds, log = [], [], []
    step = 0

    def measure(stage, feats):
        nonlocal step
        r_bal, m_bal = _balanced(real, feats, rng)
        auc = two_sample_features(r_bal, m_bal, seed=args.seed)
        entry = {"stage": stage, "step": step, "proposal_rounds": len(proposal), "critic_rounds": len(rounds),
                 "oof_auc": round(auc["auc"], 4), "give_away": auc["give_away"],
                 "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(entry), flush=True)
        log.append(entry)
        step += 1
        return r_bal, m_bal

    out = Path(args.out)
    if args.resume:
        proposal = RealismCritic.load(out / "proposal.npz").rounds
        rounds = RealismCritic.load(out / "critic.npz").rounds
        before = json.loads(Path(args.log).read_text())
        log = before["steps"][:-1]  # its last step is measured again
        step = len(log)
    # stage A: the proposal (no resampling; the sources as drawn through it)
    for k in range(0 if args.resume else args.proposal_rounds):
        prop = RealismCritic(proposal, galaxies=calib) if proposal else None
        feats, theta, _ = render(calib, args.seed + 1000 + step, proposal=prop, jobs=args.jobs)
        r_bal, m_bal = measure("proposal", feats)
        critic, _ = train_round(r_bal, m_bal, seed=args.seed + step)
        log_w = RealismCritic([critic]).log_ratio(feats)
        p, n_iter = train_proposal(theta, log_w, seed=args.seed + step)
        proposal.append(p)
        log[-1]["trees"] = n_iter
    prop = RealismCritic(proposal, galaxies=calib) if proposal else None
    # stage B: the critic, resampling the sources drawn through the
    # proposal; rounds on the features, then (--pixel-rounds) on the pixels
    real_img = None
    kinds = (["features"] * (0 if args.resume else args.rounds) + ["pixels"] * args.pixel_rounds
             + ["features"] * args.final_rounds)
    for k in range(len(kinds) + 1):
        crit = RealismCritic(rounds, galaxies=calib) if rounds else None
        feats, _, cut = render(calib, args.seed + 1000 + step, critic=crit, proposal=prop, jobs=args.jobs)
        r_bal, m_bal = measure("critic", feats)
        if k == len(kinds):
            break
        if kinds[k] == "features":
            r, n_iter = train_round(r_bal, m_bal, seed=args.seed + step)
            log[-1]["trees"] = n_iter
        else:
            if real_img is None:
                from globsml.data import read_cutouts

                real_img = np.concatenate([np.asarray(read_cutouts(real_dir / f"{g}_images.fits", memmap=False))
                                           for g in calib])
                if len(real_img) != len(real):  # rows of `real` are the frames, galaxy by galaxy
                    raise SystemExit("real features and cut-outs disagree: remove the --real-cache file")
            ri, mi = _balanced_index(real, feats, rng)
            r, val_loss = train_pixel_round(real_img[ri], cut[mi], seed=args.seed + step)
            log[-1]["pixel_val_loss"] = val_loss
        rounds.append(r)
    RealismCritic(rounds, galaxies=calib).save(out / "critic.npz")
    if proposal:
        RealismCritic(proposal, galaxies=calib).save(out / "proposal.npz")
    final = f" --final-rounds {args.final_rounds}" if args.final_rounds else ""
    command = ("nice python benchmarks/calibrate_critic.py " +
               (f"--resume --pixel-rounds {args.pixel_rounds}{final}, after: {before['command']}" if args.resume else
                f"--proposal-rounds {args.proposal_rounds} --rounds {args.rounds} "
                f"--pixel-rounds {args.pixel_rounds}{final}"))
    write_text(Path(args.log), json.dumps({"command": command,
                                           "calibration_galaxies": calib, "steps": log}, indent=1) + "\n")
    print(f"wrote {out}/critic.npz ({len(rounds)} rounds), proposal.npz ({len(proposal)}) "
          f"in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
