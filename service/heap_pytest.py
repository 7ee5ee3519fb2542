"""pytest plugin (``-p service.heap_pytest``, in pyproject's ``addopts``): a test run
wipes freed memory as the ``trustlens`` command does (``service.heap``), so the
in-process embedded Chroma of a test behaves as in production.

It acts when pytest imports it, which is before output is captured or any conftest
loaded: a re-executed run prints as a plain one does."""

from service.heap import reexec_wiping

reexec_wiping()
