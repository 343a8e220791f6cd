"""For scrapyd-deploy only: it builds the egg with `python setup.py bdist_egg` (and writes a setup.py of its
own into the checkout when there is none). Everything about the package is in pyproject.toml."""

from setuptools import setup

setup()
