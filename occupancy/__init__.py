"""The ``occupancy`` command line and the embedded all-in-one runner.

This package is the composition root: it is the only code that imports several
services, because ``occupancy up`` runs them together. Services never import
each other or this package.
"""
