"""Seed M1.0 "sy-commons": errors, logging, config, fs, prevalidation and duck()."""
