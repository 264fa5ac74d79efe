"""Multi-fidelity policy gradients (Liu et al. 2025) on SimPool: REINFORCE whose
high-fidelity gradient is corrected by a control variate from correlated low-fidelity
segments (:mod:`.estimator`), and the high-fidelity-only REINFORCE baseline."""

from .config import MFPG_METHODS, MFPGConfig
from .estimator import ControlVariate, mfpg_estimate, returns_to_go, segment_gradients
from .policy import GaussianPolicy
from .segments import Segment, SegmentSampler
from .trainer import MFPGTrainer, compare_methods, evaluate_policy, train_mfpg

__all__ = ["MFPG_METHODS", "ControlVariate", "GaussianPolicy", "MFPGConfig", "MFPGTrainer",
           "Segment", "SegmentSampler", "compare_methods", "evaluate_policy", "mfpg_estimate",
           "returns_to_go", "segment_gradients", "train_mfpg"]
