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
steps = {"render_stamps": "stamps (PSF-convolved profiles)", "add_noise": "noise", "_cutout_features": "features of every candidate (globsml.features)",
         "_network_raw": "critic: pixel rounds (network)", "_raw": "critic + proposal: tree rounds", "_draw_pool": "pool of drawn sources (incl. proposal)",
         "add_templates": "field sources", "_make_galaxy": "total"}
out = {}
for (f, l, name), (cc, nc, tt, ct, callers) in st.stats.items():
    if name in steps and 'globsml' in f:
        out[steps[name]] = out.get(steps[name], 0) + ct
print(json.dumps({k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}))
