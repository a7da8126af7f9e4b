"""Number formats, rounding/saturation helpers, LFSR definition and unit parameters.

This layer is the single source of truth for every width and format; it imports nothing
from the rest of hwsnn except :mod:`hwsnn.errors`.
"""

from hwsnn.spec.fixed import *  # noqa: F401,F403
from hwsnn.spec.lfsr import *  # noqa: F401,F403
from hwsnn.spec.units import *  # noqa: F401,F403
from hwsnn.spec.core import *  # noqa: F401,F403
