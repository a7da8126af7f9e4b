import sys

from hwsnn.cli import main

sys.exit(main())
