"""Bundled trial designs (YAML), loaded by :func:`cletrial.design.load_design`.

- ``lenalidomide-vs-placebo.yaml``: parallel-group randomised trial, lenalidomide against
  placebo or standard care, complete response (CLASI-A = 0) at week 12.
- ``lenalidomide-withdrawal.yaml``: randomised withdrawal, complete responders randomised to
  continue lenalidomide or to taper it as the 2012 protocol does; time to relapse.
"""
