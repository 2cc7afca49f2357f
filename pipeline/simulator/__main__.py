import sys

from pipeline.simulator.cli import main

sys.exit(main())
