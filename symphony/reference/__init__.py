"""Pure-Python twins of the Cython kernels: the executable specification.

Each module here has the same name, public names, signatures, errors and results as its
Cython twin in :mod:`symphony._core`. ``SYMPHONY_PURE_PYTHON=1`` makes
:mod:`symphony.kernels` select these.
"""
