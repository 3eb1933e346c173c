"""Coverage-guided fuzzing of every parser of untrusted bytes (see ``docs/fuzzing.md``).

- :mod:`fuzz.contract`: what a target is, and the one promise each keeps: it returns, or
  raises one of its named errors; anything else is a bug.
- :mod:`fuzz.targets`: the harnesses, one module per family (SNP, TDX, Nitro, TPM,
  documents, verifiers).
- :mod:`fuzz.material`: seed inputs, built at run time from the real test vectors and
  the simulators (never copied into the repository).
- :mod:`fuzz.campaign` / ``python -m fuzz``: runs each target under atheris, one after
  the other, and reports executions, coverage and crashes.

This package imports nothing at import time: the fuzzing child process must import
veritee's packages inside ``atheris.instrument_imports()`` to instrument them.
"""
