import sys

from ecsched.cli import main

sys.exit(main())
