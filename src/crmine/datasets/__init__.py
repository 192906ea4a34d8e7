"""Data to try crmine on: a simulator with known ground truth, and public datasets with published results."""

from crmine.datasets._public import load_cdnow_sample, load_donations
from crmine.datasets._simulate import Simulation, simulate

__all__ = ["Simulation", "load_cdnow_sample", "load_donations", "simulate"]
