# -*- coding: utf-8 -*-
# Lets plain pytest import the collection from this checkout (ansible-test units does this itself).
import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", ".collections")
if os.path.isdir(_COLLECTIONS) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))
