"""Bundled protocol definitions (YAML), loaded by :func:`cletrial.protocol.load_protocol`.

- ``lenalidomide-cle-2012.yaml``: the 2012 phase II protocol (the default).
- ``thalidomide-cle-example.yaml``: an EXAMPLE with different numbers, to show that the engine is
  general. It is not a published regimen and is not for clinical use.
"""
