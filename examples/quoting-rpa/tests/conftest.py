# The conformance kit's fixture (assert_rpa_conforms), loaded as a pytest plugin.
pytest_plugins = ["personascope.testing"]
