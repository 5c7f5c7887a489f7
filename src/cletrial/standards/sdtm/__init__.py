"""SDTM domains built from the study database and the protocol definition."""
