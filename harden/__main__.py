import sys

from harden.cli import main

sys.exit(main())
