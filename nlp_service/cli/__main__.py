"""``python -m nlp_service.cli``: the same as the ``nlp-service`` console script."""

import sys

from nlp_service.cli import main

sys.exit(main())
