"""Cython kernels. Import them through :mod:`symphony.kernels`; this file stays empty."""
