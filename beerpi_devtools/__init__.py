"""Development tools shared by tests, benchmarks and scripts; not part of the installed product.

Standard library only, and Python 3.11 compatible: the Home Assistant test env (Python 3.14,
without the project installed) and the Python 3.11 env import it as well as the main one.
"""
