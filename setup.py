"""Builds the optional compiled extensions; all metadata lives in pyproject.toml.

Both are optional: if one cannot be compiled, tbplateau falls back to its pure-Python
scanner or its numpy statistics (identical results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tbplateau.reader._fastscan",
            sources=["src/tbplateau/reader/_fastscan.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        # no fused multiply-add: the kernels must round exactly as numpy does
        Extension(
            "tbplateau._kernels",
            sources=["src/tbplateau/_kernels.c"],
            extra_compile_args=["-O3", "-ffp-contract=off"],
            optional=True,
        ),
    ]
)
