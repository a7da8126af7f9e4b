"""Built-in plasticity rules (each registers itself under its ``kind``)."""

from hwsnn.engine.rules.hetero import HeteroSTDP, HeteroSTDPInt
from hwsnn.engine.rules.scaling import SynapticScaling, SynapticScalingInt
from hwsnn.engine.rules.stdp import PairSTDP, PairSTDPInt, TripletSTDP, TripletSTDPInt

__all__ = ["TripletSTDP", "TripletSTDPInt", "PairSTDP", "PairSTDPInt", "HeteroSTDP", "HeteroSTDPInt",
           "SynapticScaling", "SynapticScalingInt"]
from hwsnn.engine.rules.threshold import (AdaptiveThresholdInt, HomeostaticIP, HomeostaticIPInt, StepwiseGated,
                                          StepwiseGatedInt)
from hwsnn.engine.rules.homeostasis import (Normalize, NormalizeInt, RateScaling, RateScalingInt, StepwiseScaling,
                                            StepwiseScalingInt)

__all__ += ["StepwiseGated", "StepwiseGatedInt", "HomeostaticIP", "HomeostaticIPInt", "AdaptiveThresholdInt",
            "Normalize", "NormalizeInt", "StepwiseScaling", "StepwiseScalingInt", "RateScaling", "RateScalingInt"]
from hwsnn.engine.rules.pair_wd import PairSTDPWD, PairSTDPWDInt

__all__ += ["PairSTDPWD", "PairSTDPWDInt"]
from hwsnn.engine.rules.ssdp import DASSDP, SSDP, DASSDPInt, SSDPInt

__all__ += ["SSDP", "SSDPInt", "DASSDP", "DASSDPInt"]
from hwsnn.engine.rules.three_factor import RewardSTDP, RewardSTDPInt

__all__ += ["RewardSTDP", "RewardSTDPInt"]
from hwsnn.engine.rules.pdlf import PDLF, PDLFInt, PDLFNorm, PDLFNormInt

__all__ += ["PDLF", "PDLFInt", "PDLFNorm", "PDLFNormInt"]
