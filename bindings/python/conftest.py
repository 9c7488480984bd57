"""pytest setup: the generated package lives beside this file (bindings/generate.sh python)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
