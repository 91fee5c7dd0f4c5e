"""Adaptation to unlabelled target images: models that work on *their* data.

A labelled set from elsewhere (the mock survey, another cluster's
catalogue) and the target's unlabelled cut-outs are what a new user has.
The pieces here move a model towards the target and say how many GCs it
holds:

- :func:`prior_shift_em`, :func:`adjust_to_prior`: the target's GC share
  re-estimated from its unlabelled sources (label shift, EM);
- :func:`domain_weights`: importance weights of training sources from a
  domain classifier (covariate shift);
- :func:`labels_from_proportions`: soft labels on real, unlabelled cut-outs
  from their galaxies' known numbers of GCs;
- :func:`self_train`: the target's confident predictions as labels;
- :func:`fit_soft_labels`: fitting to soft labels (a teacher's
  probabilities: distillation);
- :func:`galaxy_counts`: numbers of GCs per galaxy with an interval;
  :func:`count_threshold`: the threshold that reproduces known numbers of
  GCs best, fitted on galaxies held out in :func:`galaxy_folds`
  (:func:`count_errors`, :func:`galaxy_count_errors`: the errors themselves);
- :func:`adapt_network`: a trained CNN fine-tuned towards the target's
  cut-outs (domain-adversarial alignment or self-training);
- :func:`adapt_fit`: one fit with the chosen adaptations, as ``globsml train
  --adapt-to`` does.
"""

from ._counts import COUNT_THRESHOLDS, count_errors, count_threshold, galaxy_count_errors, galaxy_counts, galaxy_folds
from ._fit import ADAPTATIONS, adapt_fit
from ._network import NETWORK_ADAPTATIONS, adapt_network
from ._prior import adjust_to_prior, prior_shift_em
from ._proportions import labels_from_proportions
from ._self_training import self_train
from ._soft import fit_soft_labels
from ._weights import domain_weights

__all__ = [
    "ADAPTATIONS",
    "COUNT_THRESHOLDS",
    "NETWORK_ADAPTATIONS",
    "adapt_fit",
    "adapt_network",
    "adjust_to_prior",
    "count_errors",
    "count_threshold",
    "domain_weights",
    "fit_soft_labels",
    "galaxy_count_errors",
    "galaxy_counts",
    "galaxy_folds",
    "labels_from_proportions",
    "prior_shift_em",
    "self_train",
]
