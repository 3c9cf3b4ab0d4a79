import sys

from kumoi.cli import main

sys.exit(main())
