"""ECG anomaly detection with stepwise intrinsic and learning-threshold-gated synaptic plasticity.

The data (synthetic generator, WFDB loader, spike encoder) are in :mod:`hwsnn.tasks.ecg`; the
network, its training and the ROC evaluation in :mod:`hwsnn.ecg.detector`.
"""

from hwsnn.ecg.detector import *  # noqa: F401,F403
