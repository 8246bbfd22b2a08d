"""Builds the optional compiled scanner; all metadata lives in pyproject.toml.

The extension is optional: if it cannot be compiled, tbplateau falls back to its
pure-Python scanner (identical results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tbplateau.reader._fastscan",
            sources=["src/tbplateau/reader/_fastscan.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
