"""``python -m enclave --config FILE``: the enclave alone (see :mod:`enclave.main`)."""

import sys

from enclave.main import main

sys.exit(main())
