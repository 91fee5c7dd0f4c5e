"""Where the mock's time goes: CPU seconds per step of make_galaxy, for the code on PYTHONPATH.

Usage::

    PYTHONPATH=<checkout>/src python benchmarks/mock_steps.py GALAXY,GALAXY,...

Profiles (cProfile with the process CPU clock) ``make_galaxy`` with the
shipped critic and proposal for the named galaxies at full size and
prints the cumulative CPU seconds of its steps as JSON (the steps
overlap where one calls another: the pool includes the proposal's tree
rounds, and the tree rounds include the proposal's). Run it once per
checkout to compare two codes.
"""
import cProfile, pstats, time, sys, json
import torch, globsml.features
from globsml.mock import _survey as S
from globsml.mock._calibration import calibration
from globsml.mock._critic import realism_critic, proposal_model
names = sys.argv[1].split(',')
realism_critic(); proposal_model(); calibration()
pr = cProfile.Profile(time.process_time)
for plan, rng in S._plans(0, 1.0):
    if plan.galaxy in names:
        pr.enable(); S.make_galaxy(plan, rng, calibration(), critic=realism_critic(), proposal=proposal_model()); pr.disable()
st = pstats.Stats(pr)
# label: the functions that are the step in one code or another (the step's
# time is the largest of theirs: a wrapper and what it wraps are one step)
steps = {"stamps (PSF-convolved profiles)": ["render_stamps"], "noise": ["add_noise"],
         "features of every candidate (globsml.features)": ["cutout_features", "_cutout_features"],
         "critic: pixel rounds (network)": ["_network_raw"], "critic + proposal: tree rounds": ["_raw"],
         "pool of drawn sources (incl. proposal)": ["_draw_pool"], "field sources": ["add_templates"],
         "total": ["make_galaxy", "_make_galaxy"]}
by_name = {}
for (f, l, name), (cc, nc, tt, ct, callers) in st.stats.items():
    if 'globsml' in f:
        by_name[name] = by_name.get(name, 0) + ct
out = {label: max(by_name.get(n, 0) for n in names) for label, names in steps.items()}
print(json.dumps({k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}))
