"""Helpers shared by the tests, one module per topic.

A test module imports helpers from here, never from another test module or a conftest.py
(tests/txtcrm/test_test_imports.py checks); fixtures stay in conftest.py files.
"""
