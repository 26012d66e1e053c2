"""How good the measurement is: alignment, reliability, validity, behaviour test, reports.

Pure: numpy, scipy, pandas and pydantic only (no LLM library).
"""
