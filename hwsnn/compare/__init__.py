"""`hwsnn compare`: mechanisms x datasets x backends x seeds, robustness axes and claim verdicts.

A comparison spec (:mod:`hwsnn.compare.spec`) lists learning mechanisms (each a config and
overrides), datasets, synapse backends, seeds per cell, robustness axes and the claims of papers to
test; :func:`run_compare` runs one resumable sweep (:mod:`hwsnn.sweep`) per mechanism and axis on
the sweep executors, then writes a table (mean ± std accuracy, run time), the k-means reference,
figures of accuracy vs each robustness axis and a verdict per claim (paired t-test over seeds).
"""

from hwsnn.compare.run import CompareReport, evaluate_claims, plan_sweeps, run_compare, summarise
from hwsnn.compare.spec import (CompareSpec, builtin_compare_path, list_builtin_compare_specs, load_compare_spec,
                                parse_compare_spec)

__all__ = ["CompareSpec", "CompareReport", "load_compare_spec", "parse_compare_spec", "builtin_compare_path",
           "list_builtin_compare_specs", "plan_sweeps", "run_compare", "summarise", "evaluate_claims"]
