"""Customer behaviour: RFM scores and named segments, reaction behaviours and behaviour groups."""

from crmine.behaviour._reactions import behaviour_counts, behaviour_groups, group_profiles
from crmine.behaviour._rfm_scores import SEGMENTS, rfm_scores, rfm_segment_summary, rfm_transitions

__all__ = [
    "SEGMENTS",
    "behaviour_counts",
    "behaviour_groups",
    "group_profiles",
    "rfm_scores",
    "rfm_segment_summary",
    "rfm_transitions",
]
